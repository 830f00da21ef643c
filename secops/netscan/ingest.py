"""Store parsed nmap hosts as NetworkScan + ObservedHost + ObservedPort rows, in bulk and in batches.

The caller's session is the one transaction: a parse error half-way raises and the caller rolls back, so a
broken file imports nothing. Rows go in through the DBAPI, many rows per INSERT (ids reserved up
front), a batch of hosts at a time, which keeps memory flat and the database round-trips few.
"""

from __future__ import annotations

import gc
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

from sqlmodel import Session, select

from secops.models.netscan import NetworkScan
from secops.models.scope import Scope
from secops.netscan.xmlstream import PORT_FIELDS, HostRecord, ScanHeader
from secops.timeutil import utcnow

BATCH_HOSTS = 250  # hosts per bulk write: the write after the last host (the import's tail) stays short
ROWS_PER_STATEMENT = 50  # 14 columns × 50 rows stays far below every driver's parameter limit


class HostSource(Protocol):
    """What ingest reads: ``NmapXmlReader`` in this process or ``IsolatedReader`` over a helper process."""

    header: ScanHeader

    def hosts(self) -> Iterator[HostRecord]: ...


@dataclass
class IngestResult:
    scan: NetworkScan
    hosts: int
    ports: int
    parser_peak_kib: int = 0  # the parser helper's peak resident memory, when it ran in one


class _ScopeMatcher:
    """Finds the smallest declared scope holding every up host (for imports without ``--scope``)."""

    def __init__(self, scopes: list[Scope]) -> None:
        self.candidates: list[tuple[Scope, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for scope in scopes:
            try:
                self.candidates.append((scope, ipaddress.ip_network(scope.cidr, strict=False)))
            except ValueError:
                continue
        self.seen = False

    def add(self, address: str) -> None:
        if not self.candidates:
            return
        self.seen = True
        ip = ipaddress.ip_address(address)
        self.candidates = [(s, n) for s, n in self.candidates if ip.version == n.version and ip in n]

    def best(self) -> Scope | None:
        if not self.seen or not self.candidates:
            return None
        return min(self.candidates, key=lambda c: c[1].num_addresses)[0]


HOST_FIELDS = (
    "address", "address_type", "state", "reason", "hostnames", "mac", "vendor", "os_name", "os_accuracy",
    "scripts",
)  # fmt: skip
_JSON_HOST = frozenset({"hostnames", "scripts"})


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class _BulkWriter:
    """Plain DBAPI inserts of many rows per statement, ids reserved up front: SQLAlchemy's per-row parameter
    processing cost more than parsing the XML, and one row per statement costs twice as much as
    ``ROWS_PER_STATEMENT``. Ids: SQLite holds its write lock for the whole transaction (BEGIN IMMEDIATE), so
    max(id)+1… is ours; PostgreSQL hands out a block from the table's sequence."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.dialect = self.conn.dialect.name
        self.mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        self.host_cols = ("id", "scan_id", *HOST_FIELDS)
        self.port_cols = ("observed_host_id", *PORT_FIELDS)
        self.host_json = [i for i, c in enumerate(self.host_cols) if c in _JSON_HOST]

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
        """INSERT ``rows`` in statements of ``ROWS_PER_STATEMENT`` rows (the last one shorter)."""
        one = "(" + ", ".join([self.mark] * len(columns)) + ")"
        # Table and column names are our own constants; values always go as parameters.
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
        per = ROWS_PER_STATEMENT
        full = len(rows) // per * per
        cursor = self.conn.connection.cursor()
        try:
            if full:
                chunks = [list(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)]
                cursor.executemany(head + ", ".join([one] * per), chunks)
            if full < len(rows):
                rest = rows[full:]
                cursor.execute(head + ", ".join([one] * len(rest)), list(chain.from_iterable(rest)))
        finally:
            cursor.close()

    def reserve_ids(self, count: int) -> list[int]:
        if self.dialect == "postgresql":
            rows = self.conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('observed_host', 'id')) FROM generate_series(1, %s)",
                (count,),
            ).all()
            return [int(r[0]) for r in rows]
        start = int(self.conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM observed_host").scalar_one())
        return list(range(start + 1, start + 1 + count))

    def flush(self, scan_id: int, batch: list[HostRecord]) -> int:
        ids = self.reserve_ids(len(batch))
        host_rows: list[list[Any]] = []
        port_rows: list[list[Any]] = []
        for host_id, record in zip(ids, batch, strict=True):
            row = [host_id, scan_id, *(record.row[f] for f in HOST_FIELDS)]
            for i in self.host_json:
                row[i] = _json(row[i])
            host_rows.append(row)
            for port in record.ports:
                port[0] = host_id
            port_rows.extend(record.ports)
        self._insert("observed_host", self.host_cols, host_rows)
        if port_rows:
            self._insert("observed_port", self.port_cols, port_rows)
        return len(port_rows)


def ingest(
    session: Session,
    reader: HostSource,
    *,
    scan: NetworkScan,
    scope: Scope | None = None,
    batch_hosts: int = BATCH_HOSTS,
) -> IngestResult:
    """Read the hosts of ``reader`` into ``scan`` and its host/port rows.

    Without ``scope`` the smallest declared scope that holds every up host is recorded, if any.
    """
    session.add(scan)
    session.flush()
    assert scan.id is not None
    matcher = None if scope is not None else _ScopeMatcher(list(session.exec(select(Scope)).all()))
    writer = _BulkWriter(session)
    batch: list[HostRecord] = []
    hosts = ports = up = down = 0
    # The host records arrive as millions of fresh lists, dicts and strings that form no cycles: the cyclic
    # collector would only rescan them (~15% of an import when the parsing was done here).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for record in reader.hosts():
            hosts += 1
            if record.row["state"] == "up":
                up += 1
                if matcher is not None:
                    matcher.add(record.row["address"])
            else:
                down += 1
            batch.append(record)
            if len(batch) >= batch_hosts:
                ports += writer.flush(scan.id, batch)
                batch = []
        if batch:
            ports += writer.flush(scan.id, batch)
    finally:
        if collecting:
            gc.enable()
    header = reader.header
    scan.command = header.command
    scan.nmap_version = header.nmap_version
    scan.xml_version = header.xml_version
    scan.scaninfo = header.scaninfo
    scan.started = header.started or scan.started or utcnow()
    scan.finished = header.finished
    scan.hosts_up, scan.hosts_down = up, down
    chosen = scope if scope is not None else (matcher.best() if matcher is not None else None)
    scan.scope_id = chosen.id if chosen is not None else None
    session.add(scan)
    session.flush()
    return IngestResult(scan=scan, hosts=hosts, ports=ports)
