"""Streaming reader of nmap XML: one host at a time, constant memory, any nmap version since 4.x.

An ``XMLPullParser`` is fed 256 KiB at a time; each ``<host>`` the root holds once complete is turned into
plain rows and dropped from the tree, so a 100,000-host file costs what one host costs. The standard library
parser is used on purpose: expat ≥ 2.4.1 (checked below) refuses billion-laughs and quadratic-blowup
documents, and ElementTree never fetches external entities, which is what defusedxml would add — at the
price of a pure-Python parser. Imports run this in a helper process (``parsehelper``).
"""

from __future__ import annotations

import ipaddress
import json
import pyexpat
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from secops.errors import InputError

if pyexpat.version_info < (2, 4, 1):  # pragma: no cover - old platforms only
    raise ImportError("expat >= 2.4.1 is needed to read untrusted XML safely")

WEAK_STRENGTHS = frozenset({"C", "D", "E", "F"})
CHUNK_BYTES = 256 * 1024  # per read: few Python round trips, a bounded tree (~1.5 MB) between reads
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(\.{_OCTET}){{3}}")


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


class Readable(Protocol):
    """Anything with a binary ``read``: a file, or the helper's hashing reader."""

    def read(self, size: int = -1, /) -> bytes: ...


_StartEvents = Iterator[tuple[str, ET.Element]]  # what read_events() yields with events=("start",)


class NmapXmlReader:
    """Iterate the hosts of one nmap XML stream; ``header`` is complete once iteration ends."""

    def __init__(self, stream: Readable, name: str) -> None:
        self.stream, self.name = stream, name
        self.header = ScanHeader()
        self._count = 0
        self._port_numbers: dict[str, int] = {}

    def _fail(self, message: str) -> InputError:
        return InputError(f"{self.name}: {message}")

    def hosts(self) -> Iterator[HostRecord]:
        # The first "start" event is the root: it is checked before anything else is read. After that,
        # events are drained unread (a C loop) and the root's children are read whole once complete —
        # every child but the last after each chunk, as the last may still be open. A Python step per
        # <host> instead of one per element.
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
        root: ET.Element | None = None
        while True:
            chunk = self.stream.read(CHUNK_BYTES)
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
                events = cast(_StartEvents, parser.read_events())
                if root is None:
                    first = next(events, None)
                    if first is not None:
                        root = self._check_root(first[1])
                deque(events, maxlen=0)
            except ET.ParseError as exc:
                raise self._parse_error(exc) from exc
            if root is not None:
                complete = len(root) - 1 if chunk else len(root)
                if complete > 0:
                    for child in root[:complete]:
                        if child.tag == "host":
                            self._count += 1
                            yield self._host(child)
                        else:
                            self._read_other(child)
                    del root[:complete]
            if not chunk:
                return

    def _parse_error(self, exc: ET.ParseError) -> InputError:
        line, column = exc.position
        reason = str(exc).split(": line ")[0]
        return InputError(f"{self.name}:{line}:{column + 1}: malformed or truncated XML ({reason})")

    def _check_root(self, root: ET.Element) -> ET.Element:
        """Refuse anything but nmap output before a single host is read; keep the run's attributes."""
        if root.tag != "nmaprun":
            raise self._fail(f"not nmap XML output (root element <{root.tag}>, expected <nmaprun>)")
        self.header.command = root.get("args")
        self.header.nmap_version = root.get("version")
        self.header.xml_version = root.get("xmloutputversion")
        self.header.started = _epoch(root.get("start"))
        return root

    def _read_other(self, child: ET.Element) -> None:
        """A child of the root that is not a host: scan information and the run's end are kept."""
        if child.tag == "scaninfo":
            keys = ("type", "protocol", "numservices", "services")
            self.header.scaninfo.append({k: v for k in keys if (v := child.get(k))})
        elif child.tag == "runstats":
            finished = child.find("finished")
            if finished is not None:
                self.header.finished = _epoch(finished.get("time"))
                self.header.exit = finished.get("exit")

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

    def _port_number(self, portid: str, protocol: str, address: str | None) -> int:
        if not (protocol and portid.isdigit() and len(portid) <= 5 and int(portid) <= 65535):
            raise self._fail(f"host #{self._count} ({address}): port {portid!r}/{protocol!r} is not valid")
        self._port_numbers[portid] = number = int(portid)
        return number

    def _port(self, elem: ET.Element, address: str | None) -> PortRow:
        """One ``<port>`` as the row the database takes: [observed_host_id (set later), *PORT_FIELDS], JSON
        columns already encoded. 100,000 of these per large file: every Python step saved here counts."""
        portid, protocol = elem.get("portid", ""), elem.get("protocol", "")
        number = self._port_numbers.get(portid)  # a few distinct ports recur: int() costs 3× a lookup
        if number is None or not protocol:
            number = self._port_number(portid, protocol, address)
        row: PortRow = [None, protocol[:8], number, "unknown", *_NO_SERVICE]
        scripts: dict[str, str] | None = None
        for child in elem:
            tag = child.tag
            if tag == "state":
                row[3], row[4] = (child.get("state") or "unknown")[:32], child.get("reason")
            elif tag == "service":
                get = child.attrib.get
                row[5:11] = get("name"), get("product"), get("version"), get("extrainfo"), get("tunnel"), get("method")
                if len(child):
                    cpe = child.find("cpe")
                    row[11] = None if cpe is None else cpe.text
            elif tag == "script":
                script_id = str(child.get("id"))
                scripts = scripts or {}
                scripts[script_id] = child.get("output", "")
                if script_id == "ssl-enum-ciphers":
                    row[13] = _dumps(_tls(child))
        if scripts is not None:
            row[12] = _dumps(scripts)
        return row


_NO_SERVICE = (None,) * 10


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def port_dict(row: PortRow) -> dict[str, Any]:
    """A port row as a mapping (for tests and callers that prefer names), JSON columns decoded."""
    values = dict(zip(PORT_FIELDS, row[1:], strict=True))
    for key in ("scripts", "tls"):
        if values[key] is not None:
            values[key] = json.loads(values[key])
    return values
