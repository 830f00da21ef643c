"""Read side of netscan: scan listings, the JSON shape of one scan, and per-address observations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from secops.errors import NotFoundError
from secops.i18n import _
from secops.inventory.queries import get_scope
from secops.models.netscan import NetworkScan, ObservedHost, ObservedPort
from secops.models.scope import Scope


def get_scan(session: Session, scan_id: int) -> NetworkScan:
    scan = session.get(NetworkScan, scan_id)
    if scan is None:
        raise NotFoundError(_("no scan with id {id}").format(id=scan_id))
    return scan


def scope_names(session: Session) -> dict[int, str]:
    return {s.id: s.name for s in session.exec(select(Scope)).all() if s.id is not None}


def list_scans(session: Session, scope: str | None = None) -> list[dict[str, Any]]:
    """Contract rows of ``net list``: ``{scan_id, scope, profile, started, hosts_up}``, oldest first."""
    names = scope_names(session)
    query = select(NetworkScan).order_by(col(NetworkScan.started), col(NetworkScan.id))
    if scope is not None:
        query = query.where(NetworkScan.scope_id == get_scope(session, scope).id)
    return [
        {
            "scan_id": s.id,
            "scope": names.get(s.scope_id) if s.scope_id is not None else None,
            "profile": s.profile,
            "started": s.started,
            "hosts_up": s.hosts_up,
            "source": s.source,
            "raw_sha256": s.raw_sha256,
        }
        for s in session.exec(query).all()
    ]


def latest_scans(session: Session, scope_id: int, count: int) -> list[NetworkScan]:
    """The last ``count`` scans of a scope, newest first."""
    query = (
        select(NetworkScan)
        .where(NetworkScan.scope_id == scope_id)
        .order_by(col(NetworkScan.started).desc(), col(NetworkScan.id).desc())
        .limit(count)
    )
    return list(session.exec(query).all())


def scan_hosts(session: Session, scan_id: int) -> list[tuple[ObservedHost, list[ObservedPort]]]:
    """The hosts of a scan with their ports (two queries, not one per host)."""
    hosts = list(
        session.exec(select(ObservedHost).where(ObservedHost.scan_id == scan_id).order_by(col(ObservedHost.id)))
    )
    ports: dict[int, list[ObservedPort]] = {}
    port_query = (
        select(ObservedPort)
        .join(ObservedHost, col(ObservedHost.id) == col(ObservedPort.observed_host_id))
        .where(ObservedHost.scan_id == scan_id)
        .order_by(col(ObservedPort.protocol), col(ObservedPort.port))
    )
    for port in session.exec(port_query):
        ports.setdefault(port.observed_host_id, []).append(port)
    return [(h, ports.get(h.id or 0, [])) for h in hosts]


def port_item(port: ObservedPort) -> dict[str, Any]:
    """A port as the JSON contract and the reports show it."""
    return {
        "port": port.port,
        "protocol": port.protocol,
        "state": port.state,
        "service": port.service,
        "product": port.product,
        "version": port.version,
    }


def scan_payload(session: Session, scan: NetworkScan) -> dict[str, Any]:
    """Contract JSON of ``net scan`` / ``net import``."""
    scope = session.get(Scope, scan.scope_id) if scan.scope_id is not None else None
    return {
        "scan_id": scan.id,
        "scope": scope.name if scope is not None else None,
        "profile": scan.profile,
        "hosts": [
            {
                "address": host.address,
                "state": host.state,
                "hostnames": host.hostnames or [],
                "ports": [port_item(p) for p in ports],
            }
            for host, ports in scan_hosts(session, scan.id or 0)
        ],
    }


def host_observations(session: Session, addresses: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For ``host list``: per address, when it was last seen up and its open ports then (``["22/tcp"]``).

    Addresses never seen up are absent from the result.
    """
    wanted = sorted(set(addresses))
    if not wanted:
        return {}
    seen = func.coalesce(NetworkScan.finished, NetworkScan.started)
    rows = session.exec(
        select(ObservedHost.id, ObservedHost.address, seen)
        .join(NetworkScan, col(NetworkScan.id) == col(ObservedHost.scan_id))
        .where(col(ObservedHost.address).in_(wanted), ObservedHost.state == "up")
        .order_by(seen, col(ObservedHost.id))
    ).all()
    latest: dict[str, tuple[int, datetime]] = {}
    for host_id, address, when in rows:
        latest[address] = (int(host_id or 0), when)  # ordered by time: the last one wins
    if not latest:
        return {}
    open_ports: dict[int, list[str]] = {}
    port_rows = session.exec(
        select(ObservedPort.observed_host_id, ObservedPort.port, ObservedPort.protocol)
        .where(
            col(ObservedPort.observed_host_id).in_([h for h, _ in latest.values()]),
            ObservedPort.state == "open",
        )
        .order_by(col(ObservedPort.protocol), col(ObservedPort.port))
    ).all()
    for host_id, port, protocol in port_rows:
        open_ports.setdefault(host_id, []).append(f"{port}/{protocol}")
    return {
        address: {"last_seen": when, "open_ports": open_ports.get(host_id, [])}
        for address, (host_id, when) in latest.items()
    }
