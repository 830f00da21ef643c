"""Score systems from stored results: per host its latest finished run (or a given run), with the waivers
and attestations in force now, against the system's current level."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from secops.compliance.attestations import valid_attestations
from secops.compliance.evaluation import platform_matches
from secops.compliance.scoring import HostResult, SystemScore, score_system
from secops.compliance.waivers import WaiverIndex
from secops.errors import NotFoundError
from secops.i18n import _
from secops.models import Host, System
from secops.models.compliance import CheckResult, CheckRun
from secops.timeutil import utcnow


def latest_run_for_host(session: Session, host_id: int) -> int | None:
    """The newest run that is not still running and holds results for the host."""
    stmt = (
        select(func.max(CheckResult.run_id))
        .join(CheckRun, col(CheckRun.id) == col(CheckResult.run_id))
        .where(CheckResult.host_id == host_id, CheckRun.status != "running")
    )
    value = session.exec(stmt).first()
    return int(value) if value is not None else None


def host_results(
    session: Session, host: Host, waivers: WaiverIndex, run_id: int | None = None, catalog: Any = None
) -> list[HostResult]:
    """The host's results with waivers re-applied as of now: an expired waiver no longer hides a failure.

    Checks of another platform (a Linux check on a Windows host) count as not applicable on that host, so
    they neither block nor prove a requirement."""
    assert host.id is not None
    out = [
        HostResult(host=host.name, check=cid, status="not_applicable")
        for cid, check in (catalog.checks.items() if catalog is not None else ())
        if not platform_matches(getattr(check, "platform", None), host.os)
    ]
    rid = run_id if run_id is not None else latest_run_for_host(session, host.id)
    if rid is None:
        return out
    rows = session.exec(select(CheckResult).where(CheckResult.run_id == rid, CheckResult.host_id == host.id))
    for r in rows:
        waiver = waivers.match(r.check_id, host.name, host.system_id, r.original_status)
        out.append(
            HostResult(host=host.name, check=r.check_id, status="waived" if waiver else r.original_status)
        )
    return out


def score_systems(
    session: Session,
    catalog: Any,
    codes: Sequence[str] = (),
    *,
    run_id: int | None = None,
    at: datetime | None = None,
) -> list[SystemScore]:
    """Scores for the named systems (all systems when none are named), ordered by code."""
    at = at or utcnow()
    if run_id is not None and session.get(CheckRun, run_id) is None:
        raise NotFoundError(_("no check run {run}").format(run=run_id))
    systems: list[System] = []
    for code in codes:
        system = session.exec(select(System).where(System.code == code)).first()
        if system is None:
            raise NotFoundError(_("no system {code!r}").format(code=code))
        systems.append(system)
    if not codes:
        systems = list(session.exec(select(System).order_by(col(System.code))))
    waivers = WaiverIndex.load(session, at)
    scores = []
    for system in systems:
        assert system.id is not None
        requirements = catalog.scored_requirements(system.regime)
        hosts = list(session.exec(select(Host).where(Host.system_id == system.id).order_by(col(Host.name))))
        results = [r for h in hosts for r in host_results(session, h, waivers, run_id, catalog)]
        attested = {rid: a.status for rid, a in valid_attestations(session, system.id, at).items()}
        scores.append(
            score_system(
                system.code, system.effective_level, requirements, results, [h.name for h in hosts], attested
            )
        )
    return scores
