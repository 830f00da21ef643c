"""Streaming reader of nmap XML: one host at a time, constant memory, any nmap version since 4.x.

``iterparse`` hands us each finished ``<host>``; we turn it into plain row dicts and clear the tree, so
a 100,000-host file costs what one host costs. The standard library parser is used on purpose: expat
≥ 2.4.1 (checked below) refuses billion-laughs and quadratic-blowup documents, and ElementTree never
fetches external entities, which is what defusedxml would add — at the price of a pure-Python parser.
"""

from __future__ import annotations

import ipaddress
import json
import pyexpat
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, cast

from secops.errors import InputError

if pyexpat.version_info < (2, 4, 1):  # pragma: no cover - old platforms only
    raise ImportError("expat >= 2.4.1 is needed to read untrusted XML safely")

WEAK_STRENGTHS = frozenset({"C", "D", "E", "F"})
PEEK_BYTES = 64 * 1024
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(\.{_OCTET}){{3}}")
_CLEAR_AFTER = frozenset({"host", "hosthint", "taskbegin", "taskend", "taskprogress", "output"})
_WANTED = _CLEAR_AFTER | {"scaninfo", "finished"}


@dataclass
class ScanHeader:
    """What nmap says about the run itself (root attributes, scaninfo, runstats)."""

    command: str | None = None
    nmap_version: str | None = None
    xml_version: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    scaninfo: list[dict[str, Any]] = field(default_factory=list)
    exit: str | None = None


PORT_FIELDS = (
    "protocol", "port", "state", "reason", "service", "product", "version", "extrainfo", "tunnel", "method",
    "cpe", "scripts", "tls",
)  # fmt: skip
PortRow = list[Any]


@dataclass
class HostRecord:
    """One ``<host>``: its ``observed_host`` row (no scan_id) and its port rows (see ``_port``)."""

    row: dict[str, Any]
    ports: list[PortRow]


def _epoch(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _tls(script: ET.Element) -> dict[str, Any]:
    """Summarise ssl-enum-ciphers: protocol versions offered, least strength, weak cipher names."""
    versions: list[str] = []
    weak: set[str] = set()
    least: str | None = None
    for child in script:
        if child.tag == "elem" and child.get("key") == "least strength":
            least = (child.text or "").strip() or None
        elif child.tag == "table" and child.get("key"):
            versions.append(str(child.get("key")))
            for cipher in child.iterfind("table[@key='ciphers']/table"):
                values = {e.get("key"): (e.text or "") for e in cipher if e.tag == "elem"}
                if values.get("strength") in WEAK_STRENGTHS and values.get("name"):
                    weak.add(values["name"])
    return {"versions": versions, "least_strength": least, "weak_ciphers": sorted(weak)}


class _Prefixed:
    """The bytes already read while peeking, then the rest of the stream."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.stream.read(size)


class NmapXmlReader:
    """Iterate the hosts of one nmap XML stream; ``header`` is complete once iteration ends."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.stream, self.name = stream, name
        self.header = ScanHeader()
        self._count = 0

    def _fail(self, message: str) -> InputError:
        return InputError(f"{self.name}: {message}")

    def hosts(self) -> Iterator[HostRecord]:
        stream = self._check_root()
        wanted = _WANTED
        try:
            # "end" events only: "start" events would double the events handled in Python; most events
            # (ports, states, services…) are skipped with one set lookup and read with their host.
            for _event, elem in ET.iterparse(stream, events=("end",)):  # noqa: S314 (see module doc)
                tag = elem.tag
                if tag not in wanted:
                    continue
                if tag == "host":
                    self._count += 1
                    yield self._host(elem)
                elif tag == "scaninfo":
                    keys = ("type", "protocol", "numservices", "services")
                    self.header.scaninfo.append({k: elem.get(k) for k in keys if elem.get(k)})
                elif tag == "finished":
                    self.header.finished = _epoch(elem.get("time"))
                    self.header.exit = elem.get("exit")
                if tag in _CLEAR_AFTER:
                    elem.clear()  # leaves an empty shell (~100 bytes) under the root
        except ET.ParseError as exc:
            raise self._parse_error(exc) from exc

    def _parse_error(self, exc: ET.ParseError) -> InputError:
        line, column = exc.position
        reason = str(exc).split(": line ")[0]
        return InputError(f"{self.name}:{line}:{column + 1}: malformed or truncated XML ({reason})")

    def _check_root(self) -> _Prefixed:
        """Read just far enough to see the root element: refuse non-nmap XML before any host is stored."""
        head = b""
        peek: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
        while True:
            chunk = self.stream.read(PEEK_BYTES)
            head += chunk
            try:
                if chunk:
                    peek.feed(chunk)
                else:
                    peek.close()
                events: list[Any] = list(peek.read_events())
            except ET.ParseError as exc:
                raise self._parse_error(exc) from exc
            if events:
                root = cast(ET.Element, events[0][1])
                if root.tag != "nmaprun":
                    raise self._fail(f"not nmap XML output (root element <{root.tag}>, expected <nmaprun>)")
                self._read_root(root.attrib)
                return _Prefixed(head, self.stream)
            if not chunk:
                raise self._fail("empty document")

    def _read_root(self, attrib: dict[str, str]) -> None:
        self.header.command = attrib.get("args")
        self.header.nmap_version = attrib.get("version")
        self.header.xml_version = attrib.get("xmloutputversion")
        self.header.started = _epoch(attrib.get("start"))

    def _host(self, elem: ET.Element) -> HostRecord:
        row: dict[str, Any] = {
            "address": None,
            "address_type": "ipv4",
            "state": "unknown",
            "reason": None,
            "hostnames": None,
            "mac": None,
            "vendor": None,
            "os_name": None,
            "os_accuracy": None,
            "scripts": None,
        }
        ports: list[PortRow] = []
        for child in elem:
            tag = child.tag
            if tag == "status":
                row["state"] = (child.get("state") or "unknown")[:32]
                row["reason"] = child.get("reason")
            elif tag == "address":
                kind = child.get("addrtype", "ipv4")
                if kind == "mac":
                    row["mac"], row["vendor"] = child.get("addr"), child.get("vendor")
                elif row["address"] is None:
                    row["address"], row["address_type"] = child.get("addr"), kind
            elif tag == "hostnames":
                names = [str(h.get("name")) for h in child if h.tag == "hostname" and h.get("name")]
                row["hostnames"] = names or None
            elif tag == "ports":
                for port in child:
                    if port.tag == "port":
                        ports.append(self._port(port, row["address"]))
            elif tag == "os":
                match = child.find("osmatch")
                if match is not None and row["os_name"] is None:
                    row["os_name"] = match.get("name")
                    accuracy = match.get("accuracy", "")
                    row["os_accuracy"] = int(accuracy) if accuracy.isdigit() else None
            elif tag == "hostscript":
                row["scripts"] = {str(s.get("id")): s.get("output", "") for s in child if s.tag == "script"} or None
        address = row["address"]
        if not address:
            raise self._fail(f"host #{self._count} has no <address>")
        if _IPV4.fullmatch(address):  # the common case, already canonical; ipaddress costs 20 µs a host
            return HostRecord(row, ports)
        try:
            row["address"] = str(ipaddress.ip_address(address))
        except ValueError as exc:
            raise self._fail(f"host #{self._count}: {address!r} is not an IP address") from exc
        return HostRecord(row, ports)

    def _port(self, elem: ET.Element, address: str | None) -> PortRow:
        """One ``<port>`` as the row the database takes: [observed_host_id (set later), *PORT_FIELDS], JSON
        columns already encoded (100,000 of these per large file: every step saved here counts)."""
        attrib = elem.attrib
        portid, protocol = attrib.get("portid", ""), attrib.get("protocol")
        if not portid.isdigit() or not protocol or len(portid) > 5 or int(portid) > 65535:
            raise self._fail(f"host #{self._count} ({address}): port {portid!r}/{protocol!r} is not valid")
        row: PortRow = [None, protocol[:8], int(portid), "unknown", None, None, None, None, None, None, None,
                        None, None, None]  # fmt: skip
        scripts: dict[str, str] | None = None
        for child in elem:
            tag = child.tag
            if tag == "state":
                a = child.attrib
                row[3], row[4] = (a.get("state") or "unknown")[:32], a.get("reason")
            elif tag == "service":
                a = child.attrib
                get = a.get
                row[5:11] = get("name"), get("product"), get("version"), get("extrainfo"), get("tunnel"), get("method")
                if len(child):
                    cpe = child.find("cpe")
                    if cpe is not None:
                        row[11] = cpe.text
            elif tag == "script":
                script_id = str(child.get("id"))
                scripts = scripts or {}
                scripts[script_id] = child.get("output", "")
                if script_id == "ssl-enum-ciphers":
                    row[13] = _dumps(_tls(child))
        if scripts is not None:
            row[12] = _dumps(scripts)
        return row


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def port_dict(row: PortRow) -> dict[str, Any]:
    """A port row as a mapping (for tests and callers that prefer names), JSON columns decoded."""
    values = dict(zip(PORT_FIELDS, row[1:], strict=True))
    for key in ("scripts", "tls"):
        if values[key] is not None:
            values[key] = json.loads(values[key])
    return values
