"""Scores of many systems at once from aggregate queries: no per-host ORM loops, no per-result objects.

Same rules as ``secops.compliance.scoring`` (see its docstring): per host its latest finished run, waivers
in force now, valid attestations, other-platform checks not applicable. Instead of one object per result,
each system keeps per check a count of statuses over its hosts, which is all a requirement's state needs:
any ``fail`` → not met; every host passing or not applicable (and at least one pass) → met; else not
evaluated. The trend re-scores each system's last runs from the statuses as recorded, counted in SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from secops.compliance.evaluation import platform_matches
from secops.compliance.scoring import MAX_LEVEL, NEUTRAL, PASSING, Ratios
from secops.compliance.waivers import WaiverIndex
from secops.models import Host
from secops.models.compliance import Attestation, CheckResult, CheckRun

TREND_RUNS = 3
Stats = dict[str, Counter[str]]  # check id -> status -> number of hosts


@dataclass
class RunInfo:
    run_id: int
    status: str
    at: datetime | None  # finished (or started when unfinished)


@dataclass
class LeanScore(Ratios):
    level: int | None
    met: int = 0
    not_met: int = 0
    not_evaluated: int = 0
    achieved_level: int = 0
    not_met_ids: list[str] = field(default_factory=list)  # applicable requirements not met


@dataclass
class SystemCompliance:
    score: LeanScore
    runs: list[RunInfo] = field(default_factory=list)  # newest first
    trend: list[dict[str, Any]] = field(default_factory=list)  # oldest first: run, at, score


def lean_score(
    level: int | None, requirements: Sequence[Any], stats: Stats, hosts: int, attested: Mapping[str, str]
) -> LeanScore:
    """Score one system from per-check status counts over its ``hosts`` hosts."""
    summary: dict[str, tuple[int, int, bool]] = {}  # check -> (failing, passing, has a gap)
    for check, counts in stats.items():
        passed = sum(n for s, n in counts.items() if s in PASSING)
        bad = any(s not in PASSING and s not in NEUTRAL for s in counts)
        summary[check] = (counts.get("fail", 0), passed, bad or sum(counts.values()) < hosts)
    missing = (0, 0, True)
    out = LeanScore(level)
    tally = {"met": 0, "not_met": 0, "not_evaluated": 0}
    states: list[tuple[int, str]] = []
    applicable = level if level is not None else 0
    for req in requirements:
        rid, min_level, checks = req.id, req.min_level, req.checks
        attestation = attested.get(rid)
        fails = passed = 0
        gap = False
        for check in checks:
            f, p, g = summary.get(check, missing)
            fails += f
            passed += p
            gap = gap or g
        if fails or attestation == "not_met":
            state = "not_met"
        elif (checks and hosts and not gap and passed) or attestation == "met":
            state = "met"
        else:
            state = "not_evaluated"
        states.append((min_level, state))
        if min_level <= applicable:
            tally[state] += 1
            if state == "not_met":
                out.not_met_ids.append(rid)
    out.met, out.not_met, out.not_evaluated = tally["met"], tally["not_met"], tally["not_evaluated"]
    for lvl in range(1, MAX_LEVEL + 1):
        if all(s == "met" for m, s in states if m <= lvl):
            out.achieved_level = lvl
        else:
            break
    return out


def bulk_scores(
    session: Session, catalog: Any, systems: Iterable[Any], now: datetime, *, trend_runs: int = TREND_RUNS
) -> dict[int, SystemCompliance]:
    """Score every system in ``systems`` (System rows), keyed by system id."""
    systems = list(systems)
    host_rows = session.exec(select(Host.id, Host.name, Host.system_id, Host.os)).all()
    hosts_of: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    system_of_host: dict[int, int] = {}
    for hid, name, sid, os in host_rows:
        if sid is not None and hid is not None:
            hosts_of[sid].append((hid, name, os))
            system_of_host[hid] = sid
    current = _current_stats(session, catalog, hosts_of, system_of_host, WaiverIndex.load(session, now))
    attested: dict[int, dict[str, str]] = defaultdict(dict)
    for sid, req, status in session.exec(
        select(Attestation.system_id, Attestation.requirement_id, Attestation.status)
        .where(Attestation.expires_at > now)
        .order_by(col(Attestation.id))
    ).all():
        attested[sid][req] = status
    runs = _runs_by_system(session)
    history, run_hosts = _history(session, runs, trend_runs)
    by_regime: dict[str, list[Any]] = {}
    out: dict[int, SystemCompliance] = {}
    for system in systems:
        sid = system.id
        regime = system.regime or ""
        if regime not in by_regime:
            by_regime[regime] = catalog.scored_requirements(regime or None)
        reqs = by_regime[regime]
        level = system.effective_level
        score = lean_score(level, reqs, current.get(sid, {}), len(hosts_of.get(sid, [])), attested.get(sid, {}))
        trend = []
        for run in reversed(runs.get(sid, [])[:trend_runs]):
            key = (sid, run.run_id)
            past = lean_score(level, reqs, history.get(key, {}), run_hosts.get(key, 0), attested.get(sid, {}))
            trend.append({"run": run.run_id, "at": run.at, "score": past.score})
        out[sid] = SystemCompliance(score, runs.get(sid, []), trend)
    return out


def _current_stats(
    session: Session,
    catalog: Any,
    hosts_of: Mapping[int, list[tuple[int, str, str | None]]],
    system_of_host: Mapping[int, int],
    waivers: WaiverIndex,
) -> dict[int, Stats]:
    """Per system, per check, the statuses of its hosts' latest results (waivers re-applied now)."""
    latest = (
        select(CheckResult.host_id.label("hid"), func.max(CheckResult.run_id).label("rid"))  # type: ignore[union-attr]
        .join(CheckRun, col(CheckRun.id) == col(CheckResult.run_id))
        .where(CheckRun.status != "running", col(CheckResult.host_id).is_not(None))
        .group_by(col(CheckResult.host_id))
        .subquery()
    )
    stmt = select(CheckResult.host_id, CheckResult.host_name, CheckResult.check_id, CheckResult.original_status).join(
        latest, (latest.c.hid == col(CheckResult.host_id)) & (latest.c.rid == col(CheckResult.run_id))
    )
    stats: dict[int, Stats] = defaultdict(lambda: defaultdict(Counter))
    any_waiver = bool(waivers.waivers)
    for hid, name, check, status in session.exec(stmt).all():
        sid = system_of_host.get(hid or 0)
        if sid is None:
            continue
        if any_waiver and waivers.match(check, name, sid, status):
            status = "waived"
        stats[sid][check][status] += 1
    other_platform: dict[str | None, list[str]] = {}
    for sid, hosts in hosts_of.items():
        for os, count in Counter(os for _, _, os in hosts).items():
            if os not in other_platform:
                other_platform[os] = [
                    c for c, chk in catalog.checks.items() if not platform_matches(getattr(chk, "platform", None), os)
                ]
            for check in other_platform[os]:
                stats[sid][check]["not_applicable"] += count
    return stats


def _runs_by_system(session: Session) -> dict[int, list[RunInfo]]:
    """Every finished run that holds results of each system, newest first (one grouped query)."""
    stmt = (
        core_select(
            col(CheckResult.system_id),
            col(CheckRun.id),
            col(CheckRun.status),
            col(CheckRun.finished_at),
            col(CheckRun.started_at),
        )
        .join(CheckRun, col(CheckRun.id) == col(CheckResult.run_id))
        .where(col(CheckRun.status) != "running", col(CheckResult.system_id).is_not(None))
        .group_by(
            col(CheckResult.system_id),
            col(CheckRun.id),
            col(CheckRun.status),
            col(CheckRun.finished_at),
            col(CheckRun.started_at),
        )
    )
    runs: dict[int, list[RunInfo]] = defaultdict(list)
    for sid, rid, status, finished, started in session.execute(stmt).all():
        runs[int(sid)].append(RunInfo(int(rid), status, finished or started))
    for items in runs.values():
        items.sort(key=lambda r: r.run_id, reverse=True)
    return runs


def _history(
    session: Session, runs: dict[int, list[RunInfo]], count: int
) -> tuple[dict[tuple[int, int], Stats], dict[tuple[int, int], int]]:
    """Status counts per check, and host counts, of each system's last ``count`` runs (counted in SQL)."""
    wanted = {(sid, r.run_id) for sid, items in runs.items() for r in items[:count]}
    run_ids = sorted({rid for _, rid in wanted})
    stats: dict[tuple[int, int], Stats] = defaultdict(lambda: defaultdict(Counter))
    hosts: dict[tuple[int, int], int] = {}
    for chunk in range(0, len(run_ids), 500):
        ids = run_ids[chunk : chunk + 500]
        grouped = (
            core_select(
                col(CheckResult.system_id),
                col(CheckResult.run_id),
                col(CheckResult.check_id),
                col(CheckResult.status),
                func.count(),
            )
            .where(col(CheckResult.run_id).in_(ids))
            .group_by(
                col(CheckResult.system_id), col(CheckResult.run_id), col(CheckResult.check_id), col(CheckResult.status)
            )
        )
        for sid, rid, check, status, n in session.execute(grouped).all():
            if (sid, rid) in wanted:
                stats[(sid, rid)][check][status] += int(n)
        distinct = (
            core_select(
                col(CheckResult.system_id), col(CheckResult.run_id), func.count(func.distinct(CheckResult.host_name))
            )
            .where(col(CheckResult.run_id).in_(ids))
            .group_by(col(CheckResult.system_id), col(CheckResult.run_id))
        )
        for sid, rid, n in session.execute(distinct).all():
            hosts[(sid, rid)] = int(n)
    return stats, hosts


def last_completed(info: list[RunInfo]) -> RunInfo | None:
    """The system's last completed check run: what counts as its last inspection."""
    return next((r for r in info if r.status == "completed"), None)
