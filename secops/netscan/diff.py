"""What changed between two scans, like ndiff: hosts up/down, ports opened/closed, services, OS.

A port counts as closed only when the newer scan covered it (its ``scaninfo`` port list), and as opened
only when the older scan covered it, so comparing a discovery scan with a port scan reports no port noise.
A host that appears up brings its open ports as ``port_opened``; a host that went down says only that
(its ports are unknown, not closed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from secops.errors import InputError, NotFoundError
from secops.i18n import _
from secops.inventory.queries import get_scope
from secops.models.netscan import NetworkScan, ObservedHost, ObservedPort
from secops.netscan.queries import get_scan, latest_scans, scan_hosts

KINDS = ("host_up", "host_down", "port_opened", "port_closed", "service_changed", "os_changed")


@dataclass(frozen=True)
class Change:
    address: str
    kind: str
    port: int | None = None
    protocol: str | None = None
    before: str | None = None
    after: str | None = None


class Coverage:
    """Which ports a scan probed, from nmap's ``scaninfo`` (``None``: unknown, taken as "everything")."""

    def __init__(self, scaninfo: list[dict[str, Any]], listed_ports: bool) -> None:
        # No scaninfo: a ping scan (nothing probed) unless the file lists ports anyway (then: unknown).
        self.ranges: dict[str, list[tuple[int, int]]] | None = None if listed_ports else {}
        if scaninfo:
            self.ranges = {}
            for info in scaninfo:
                protocol = str(info.get("protocol", "tcp"))
                for part in str(info.get("services", "")).split(","):
                    low, _sep, high = part.partition("-")
                    if low.strip().isdigit():
                        self.ranges.setdefault(protocol, []).append((int(low), int(high or low)))

    def covers(self, port: int, protocol: str) -> bool:
        if self.ranges is None:
            return True
        return any(low <= port <= high for low, high in self.ranges.get(protocol, ()))


def _service(port: ObservedPort) -> str:
    return " ".join(x for x in (port.service, port.product, port.version) if x)


def _hosts(session: Session, scan: NetworkScan) -> dict[str, tuple[ObservedHost, dict[tuple[int, str], ObservedPort]]]:
    return {
        host.address: (host, {(p.port, p.protocol): p for p in ports})
        for host, ports in scan_hosts(session, scan.id or 0)
    }


def diff_scans(session: Session, old: NetworkScan, new: NetworkScan) -> list[Change]:
    before, after = _hosts(session, old), _hosts(session, new)
    old_cover = Coverage(old.scaninfo, any(ports for _h, ports in before.values()))
    new_cover = Coverage(new.scaninfo, any(ports for _h, ports in after.values()))
    changes: list[Change] = []
    for address in sorted(set(before) | set(after), key=_address_key):
        was, now = before.get(address), after.get(address)
        was_up = was is not None and was[0].state == "up"
        now_up = now is not None and now[0].state == "up"
        if was_up and not now_up:
            changes.append(Change(address, "host_down", before="up", after=now[0].state if now else None))
            continue
        if not now_up or now is None:
            continue
        old_ports = was[1] if was is not None and was_up else {}
        if not was_up:
            changes.append(Change(address, "host_up", before=was[0].state if was else None, after="up"))
        elif was is not None and was[0].os_name and now[0].os_name and was[0].os_name != now[0].os_name:
            changes.append(Change(address, "os_changed", before=was[0].os_name, after=now[0].os_name))
        for key in sorted(set(old_ports) | set(now[1]), key=lambda k: (k[1], k[0])):
            port, protocol = key
            p_old, p_new = old_ports.get(key), now[1].get(key)
            open_before = p_old is not None and p_old.state == "open"
            open_now = p_new is not None and p_new.state == "open"
            if open_now and not open_before and (not was_up or p_old is not None or old_cover.covers(port, protocol)):
                changes.append(Change(address, "port_opened", port, protocol, p_old.state if p_old else None, "open"))
            elif open_before and not open_now and (p_new is not None or new_cover.covers(port, protocol)):
                changes.append(
                    Change(address, "port_closed", port, protocol, "open", p_new.state if p_new else "closed")
                )
            elif open_before and open_now and p_old is not None and p_new is not None:
                old_s, new_s = _service(p_old), _service(p_new)
                if old_s != new_s and p_old.method == p_new.method:
                    changes.append(Change(address, "service_changed", port, protocol, old_s, new_s))
    return changes


def _address_key(address: str) -> tuple[int, str]:
    import ipaddress

    ip = ipaddress.ip_address(address)
    return (ip.version, ip.exploded)


def resolve_pair(
    session: Session, scan_a: int | None, scan_b: int | None, scope: str | None
) -> tuple[NetworkScan, NetworkScan]:
    """The two scans to compare: both given, or the last two of a scope (default: the latest scan's)."""
    if scan_a is not None and scan_b is not None:
        return get_scan(session, scan_a), get_scan(session, scan_b)
    if scan_a is not None or scan_b is not None:
        raise InputError(_("give two scan ids, or none to compare the last two scans of a scope"))
    if scope is not None:
        scope_id = get_scope(session, scope).id
    else:
        from sqlmodel import col, select

        last = session.exec(
            select(NetworkScan)
            .where(col(NetworkScan.scope_id).is_not(None))
            .order_by(col(NetworkScan.started).desc(), col(NetworkScan.id).desc())
        ).first()
        if last is None:
            raise NotFoundError(_("no scans recorded for any scope"))
        scope_id = last.scope_id
    assert scope_id is not None
    scans = latest_scans(session, scope_id, 2)
    if len(scans) < 2:
        raise NotFoundError(_("fewer than two scans recorded for this scope"))
    return scans[1], scans[0]


def diff_payload(old: NetworkScan, new: NetworkScan, changes: list[Change]) -> dict[str, Any]:
    """Contract JSON of ``net diff``."""
    return {"from": old.id, "to": new.id, "changes": [asdict(c) for c in changes]}
