"""Scan results against the inventory: unmanaged hosts, undeclared open ports, inventory hosts not seen.

For each scope (or the one named) the latest scan is compared with the inventory hosts whose address
lies in that scope. Declared services are ``Host.services`` entries such as ``"22/tcp"``, ``22`` or
``{port: 22, protocol: tcp}``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlmodel import Session, select

from secops.inventory.queries import get_scope
from secops.models.host import Host
from secops.models.scope import Scope
from secops.netscan.queries import latest_scans, scan_hosts


def declared_ports(services: list[Any] | None) -> set[str]:
    """Normalise ``Host.services`` to ``{"22/tcp", …}`` (a bare number means TCP)."""
    result: set[str] = set()
    for item in services or []:
        if isinstance(item, dict):
            port, protocol = item.get("port"), str(item.get("protocol", "tcp")).lower()
        elif isinstance(item, int):
            port, protocol = item, "tcp"
        else:
            text = str(item).strip().lower()
            port_text, _sep, protocol = text.partition("/")
            port, protocol = port_text, protocol or "tcp"
        try:
            result.add(f"{int(str(port))}/{protocol}")
        except ValueError:
            continue
    return result


def find_unknowns(session: Session, scope: str | None = None) -> list[dict[str, Any]]:
    """Rows ``{scope, scan_id, address, kind, host, ports}``; kind is ``unknown_host``,
    ``undeclared_ports`` or ``not_seen``."""
    scopes = [get_scope(session, scope)] if scope else list(session.exec(select(Scope).order_by(Scope.name)))
    inventory = list(session.exec(select(Host).order_by(Host.name)))
    by_address: dict[str, list[Host]] = {}
    for host in inventory:
        by_address.setdefault(_canonical(host.address), []).append(host)
    rows: list[dict[str, Any]] = []
    for sc in scopes:
        scans = latest_scans(session, sc.id or 0, 1)
        if not scans:
            continue
        scan = scans[0]
        try:
            network = ipaddress.ip_network(sc.cidr, strict=False)
        except ValueError:
            continue
        seen_up: set[str] = set()
        for observed, ports in scan_hosts(session, scan.id or 0):
            if observed.state != "up":
                continue
            seen_up.add(observed.address)
            open_ports = [f"{p.port}/{p.protocol}" for p in ports if p.state == "open"]
            hosts = by_address.get(observed.address, [])
            base = {"scope": sc.name, "scan_id": scan.id, "address": observed.address}
            if not hosts:
                rows.append({**base, "kind": "unknown_host", "host": None, "ports": open_ports})
                continue
            declared: set[str] = set()
            for host in hosts:
                declared |= declared_ports(host.services)
            extra = [p for p in open_ports if p not in declared]
            if extra:
                rows.append({**base, "kind": "undeclared_ports", "host": hosts[0].name, "ports": extra})
        for address, hosts in sorted(by_address.items()):
            if address in seen_up or not _inside(address, network):
                continue
            for host in hosts:
                rows.append(
                    {
                        "scope": sc.name,
                        "scan_id": scan.id,
                        "address": address,
                        "kind": "not_seen",
                        "host": host.name,
                        "ports": [],
                    }
                )
    return rows


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return address.strip()


def _inside(address: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(address) in network
    except ValueError:
        return False
