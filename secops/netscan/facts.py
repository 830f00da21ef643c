"""Network observations as facts for the check engine (``checks/network/*.yaml``; ``source: observed``).

``network_facts(session, host)`` gives, for one inventory host, what the scans saw at its address:

- ``net_ports``: the open ports of the latest scan that probed ports (a ping scan says nothing about
  ports), each ``{id: "22/tcp", port, protocol, service, product, version, tunnel, banner,
  tls_versions, tls_least_strength, tls_weak_ciphers}``; TLS data comes from the latest scan that ran
  ssl-enum-ciphers on that port.
- ``net_declared_services``: ``Host.services`` normalised to ``["22/tcp", …]``.
- ``net_observation``: ``{address, zone, scope, scan_id, last_seen}``; the zone is the host's own, else
  that of the smallest scope holding the address.

A host no port scan has seen up gets ``FactUnavailable("skipped", …)`` for each fact, so its network
checks are skipped with the reason rather than passing on no evidence. Values are JSON-safe (bundles are
hashed and stored).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from secops.models.host import Host
from secops.models.netscan import NetworkScan, ObservedHost, ObservedPort
from secops.models.scope import Scope
from secops.netscan.unknowns import declared_ports
from secops.probes.outcome import FactUnavailable

FACT_IDS = ("net_ports", "net_declared_services", "net_observation")


def _zone(session: Session, host: Host) -> tuple[str | None, str | None]:
    """(zone, scope name): the host's zone if set, else the smallest declared scope's."""
    try:
        ip = ipaddress.ip_address(host.address.strip())
    except ValueError:
        return host.zone, None
    best: tuple[int, Scope] | None = None
    for scope in session.exec(select(Scope)).all():
        try:
            network = ipaddress.ip_network(scope.cidr, strict=False)
        except ValueError:
            continue
        inside = ip.version == network.version and ip in network
        if inside and (best is None or network.num_addresses < best[0]):
            best = (network.num_addresses, scope)
    scope_zone, scope_name = (best[1].zone, best[1].name) if best else (None, None)
    return host.zone or scope_zone, scope_name


def _port_fact(port: ObservedPort, tls: dict[str, Any] | None) -> dict[str, Any]:
    tls = tls or {}
    return {
        "id": f"{port.port}/{port.protocol}",
        "port": port.port,
        "protocol": port.protocol,
        "service": port.service,
        "product": port.product,
        "version": port.version,
        "tunnel": port.tunnel,
        "banner": " ".join(x for x in (port.product, port.version, port.extrainfo) if x),
        "tls_versions": tls.get("versions"),
        "tls_least_strength": tls.get("least_strength"),
        "tls_weak_ciphers": tls.get("weak_ciphers"),
    }


def network_facts(session: Session, host: Host) -> dict[str, Any]:
    """The observed network facts of ``host`` (see the module docstring for their shape)."""
    try:
        address = str(ipaddress.ip_address(host.address.strip()))
    except ValueError:
        address = host.address.strip()
    zone, scope_name = _zone(session, host)
    when = func.coalesce(NetworkScan.finished, NetworkScan.started)
    rows = session.exec(
        select(ObservedHost, NetworkScan)
        .join(NetworkScan, col(NetworkScan.id) == col(ObservedHost.scan_id))
        .where(ObservedHost.address == address)
        .order_by(when.desc(), col(ObservedHost.id).desc())
    ).all()
    latest: tuple[ObservedHost, NetworkScan] | None = None
    for observed, scan in rows:
        probed_ports = bool(scan.scaninfo) or bool(
            session.exec(select(ObservedPort.id).where(ObservedPort.observed_host_id == observed.id).limit(1)).first()
        )
        if probed_ports:
            latest = (observed, scan)
            break
    if latest is None or latest[0].state != "up":
        reason = (
            f"the latest port scan (#{latest[1].id}) found {address} {latest[0].state}"
            if latest is not None
            else f"no port scan has observed {address}"
        )
        return {fact: FactUnavailable("skipped", reason) for fact in FACT_IDS}
    observed, scan = latest
    tls_by_port: dict[str, dict[str, Any]] = {}
    tls_rows = session.exec(
        select(ObservedPort.port, ObservedPort.protocol, ObservedPort.tls)
        .join(ObservedHost, col(ObservedHost.id) == col(ObservedPort.observed_host_id))
        .join(NetworkScan, col(NetworkScan.id) == col(ObservedHost.scan_id))
        .where(ObservedHost.address == address, col(ObservedPort.tls).is_not(None))
        .order_by(when.desc())
    ).all()
    for port_number, protocol, tls in tls_rows:
        if tls:
            tls_by_port.setdefault(f"{port_number}/{protocol}", dict(tls))
    ports = session.exec(
        select(ObservedPort)
        .where(ObservedPort.observed_host_id == observed.id, ObservedPort.state == "open")
        .order_by(col(ObservedPort.protocol), col(ObservedPort.port))
    ).all()
    seen = scan.finished or scan.started
    return {
        "net_ports": [_port_fact(p, tls_by_port.get(f"{p.port}/{p.protocol}")) for p in ports],
        "net_declared_services": sorted(
            declared_ports(host.services), key=lambda s: (s.split("/")[1], int(s.split("/")[0]))
        ),
        "net_observation": {
            "address": address,
            "zone": zone,
            "scope": scope_name,
            "scan_id": scan.id,
            "last_seen": seen.isoformat() if seen else None,
        },
    }
