"""The network report (``report network [SCAN]``): scan summary, diff against the scope's previous scan,
unknown hosts and ports, and policy violations (failing network checks, undeclared open ports).

Built on the netscan query functions; the report never scans anything itself."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from secops.compliance.summary import latest_run_for_host
from secops.errors import NotFoundError
from secops.i18n import _, pick
from secops.models import Host
from secops.models.compliance import CheckResult
from secops.models.netscan import NetworkScan
from secops.models.scope import Scope
from secops.netscan.diff import diff_scans
from secops.netscan.queries import get_scan, port_item, scan_hosts
from secops.netscan.unknowns import find_unknowns
from secops.reporting.render import Report, language
from secops.timeutil import DEFAULT_TZ, utcnow

COLUMNS = ("address", "state", "hostnames", "port", "protocol", "port_state", "service", "product", "version")


def _pick_scan(session: Session, scan_id: int | None) -> NetworkScan:
    if scan_id is not None:
        return get_scan(session, scan_id)
    scan = session.exec(
        select(NetworkScan).order_by(col(NetworkScan.started).desc(), col(NetworkScan.id).desc())
    ).first()
    if scan is None:
        raise NotFoundError(_("no network scan recorded yet (secops net scan or net import)"))
    return scan


def _previous(session: Session, scan: NetworkScan) -> NetworkScan | None:
    """The scope's scan just before this one."""
    if scan.scope_id is None:
        return None
    return session.exec(
        select(NetworkScan)
        .where(
            NetworkScan.scope_id == scan.scope_id,
            col(NetworkScan.id) != scan.id,
            col(NetworkScan.started) <= scan.started,
        )
        .order_by(col(NetworkScan.started).desc(), col(NetworkScan.id).desc())
    ).first()


def _violations(session: Session, catalog: Any, addresses: set[str], lang: str) -> list[dict[str, Any]]:
    """Failing network checks (port policy) on inventory hosts seen in the scan, from their latest run."""
    network_checks = {cid for cid, chk in catalog.checks.items() if getattr(chk, "platform", None) == "network"}
    out = []
    for host in session.exec(select(Host).where(col(Host.address).in_(sorted(addresses))).order_by(col(Host.name))):
        rid = latest_run_for_host(session, host.id or 0)
        if rid is None or not network_checks:
            continue
        stmt = select(CheckResult).where(
            CheckResult.run_id == rid,
            CheckResult.host_id == host.id,
            CheckResult.status == "fail",
            col(CheckResult.check_id).in_(sorted(network_checks)),
        )
        for res in session.exec(stmt.order_by(col(CheckResult.check_id))):
            chk = catalog.checks[res.check_id]
            out.append(
                {
                    "host": host.name,
                    "address": host.address,
                    "check": res.check_id,
                    "title": pick(chk.title.model_dump(), lang),
                    "severity": res.severity,
                    "observed": res.observed,
                    "detail": res.detail,
                    "run": rid,
                }
            )
    return out


def build_network(
    session: Session,
    catalog: Any,
    scan_id: int | None,
    lang: str,
    *,
    now: datetime | None = None,
    tz: str = DEFAULT_TZ,
) -> Report:
    now = now or utcnow()
    scan = _pick_scan(session, scan_id)
    scope = session.get(Scope, scan.scope_id) if scan.scope_id is not None else None
    hosts = scan_hosts(session, scan.id or 0)
    previous = _previous(session, scan)
    changes = [asdict(c) for c in diff_scans(session, previous, scan)] if previous is not None else []
    unknowns = [u for u in find_unknowns(session, scope.name) if u["scan_id"] == scan.id] if scope else []
    up = {h.address for h, _ in hosts if h.state == "up"}
    rows: list[dict[str, Any]] = []
    host_items = []
    for h, ports in hosts:
        items = [port_item(p) for p in ports]
        host_items.append(
            {"address": h.address, "state": h.state, "hostnames": h.hostnames or [], "os": h.os_name, "ports": items}
        )
        base = {"address": h.address, "state": h.state, "hostnames": h.hostnames or []}
        rows.extend({**base, **{("port_state" if k == "state" else k): v for k, v in p.items()}} for p in items)
        if not items:
            rows.append(base)
    with language(lang):
        violations = _violations(session, catalog, up, lang)
        title = _("Network scan report")
    open_ports = sum(1 for _h, ports in hosts for p in ports if p.state == "open")
    data = {
        "scan": {
            "id": scan.id,
            "scope": scope.name if scope else None,
            "cidr": scope.cidr if scope else None,
            "profile": scan.profile,
            "source": scan.source,
            "command": scan.command,
            "nmap_version": scan.nmap_version,
            "started": scan.started,
            "finished": scan.finished,
            "hosts_up": len(up),
            "hosts_total": len(hosts),
            "open_ports": open_ports,
            "raw_sha256": scan.raw_sha256,
        },
        "previous_scan": previous.id if previous else None,
        "changes": changes,
        "unknowns": unknowns,
        "violations": violations,
        "hosts": host_items,
        "as_of": now,
    }
    return Report("network", title, data, rows=rows, columns=COLUMNS, lang=lang, tz=tz, generated_at=now)
