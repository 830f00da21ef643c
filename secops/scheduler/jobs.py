"""One execution of a schedule: record it, run its job through the feature's own service, notify.

Jobs call what the features expose (``compliance.runs``, ``netscan.service``, ``incidents.reports``);
nothing here re-implements them. ``execute`` is what the daemon's APScheduler job and ``run-now`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from secops.cli.app import App
from secops.errors import NotFoundError, SecopsError
from secops.i18n import _, pick
from secops.models import System
from secops.models.schedule import Schedule
from secops.scheduler import notify, service
from secops.timeutil import local, utcnow

log = logging.getLogger("secops.scheduler")
HIGH = ("high", "critical")
DEADLINE_WINDOW = timedelta(hours=24)
REMIND_DAYS = 45


class JobFailed(SecopsError):
    """The job ran and did not do its work (e.g. hosts unreachable); the execution is ``failed``."""


@dataclass
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    notices: list[notify.Notice] = field(default_factory=list)
    rearm: list[str] = field(default_factory=list)
    failure: str | None = None


def _check_run(app: App, schedule: Schedule) -> Outcome:
    from secops.catalog import load_catalog
    from secops.compliance import runs

    target = schedule.target or ""
    systems = [] if target == "all" else [c.strip() for c in target.split(",") if c.strip()]
    catalog = load_catalog(extra_dirs=tuple(app.settings.catalogs))
    with app.session() as session:
        chosen = runs.select_hosts(session, systems, [], target == "all")
    run = runs.execute_run(
        app.engine(),
        app.actor,
        app.settings.home,
        catalog,
        chosen,
        selection={
            "systems": systems,
            "hosts": [],
            "all": target == "all",
            "transport": None,
            "schedule": schedule.name,
        },
    )
    outcome = Outcome(result={"check_run": run.id, "run_status": run.status})
    with app.session() as session:
        for r in runs.run_results(session, run.id or 0):
            key = f"check-fail:{r.host_name}:{r.check_id}"
            if r.status == "pass":
                outcome.rearm.append(key)
            elif r.status == "fail" and r.severity in HIGH:
                outcome.notices.append(
                    notify.Notice(
                        key,
                        "check_failed",
                        _("{severity} check failing on {host}: {check}").format(
                            severity=r.severity, host=r.host_name, check=r.check_id
                        ),
                        _("Check run {run}: {check} fails on {host} ({severity}). {detail}").format(
                            run=run.id,
                            check=r.check_id,
                            host=r.host_name,
                            severity=r.severity,
                            detail=r.detail,
                        ),
                        {"run": run.id, "host": r.host_name, "check": r.check_id, "severity": r.severity},
                    )
                )
    if run.status != "completed":
        outcome.failure = _("check run {run} ended {status}: {done}/{total} hosts collected").format(
            run=run.id, status=run.status, done=run.hosts_done, total=run.hosts_total
        )
    return outcome


def _net_scan(app: App, schedule: Schedule) -> Outcome:
    from secops.netscan import runner, unknowns
    from secops.netscan import service as net
    from secops.store import store_for

    scope = schedule.target or ""
    profile = str(schedule.options.get("profile", "discovery"))
    config = app.settings.section("netscan")
    with app.session() as session:
        prepared = net.prepare_scan(session, [scope], profile)
    raw = runner.run(
        prepared.plan,
        prepared.arguments,
        path=runner.nmap_path(config),
        timeout=int(config.get("timeout", prepared.profile.timeout)),
    )
    with app.session() as session:
        stored = net.store_scan(session, store_for(app.settings.home), prepared, raw, actor=app.actor)
        scan_id = stored.scan.id
    outcome = Outcome(result={"scan": scan_id})
    with app.session() as session:
        for row in unknowns.find_unknowns(session, scope):
            if row["kind"] != "unknown_host":
                continue
            outcome.notices.append(
                notify.Notice(
                    f"unknown-host:{row['scope']}:{row['address']}",
                    "unknown_host",
                    _("Unknown host {address} in scope {scope}").format(address=row["address"], scope=row["scope"]),
                    _(
                        "Scan {scan} saw {address} up in scope {scope}; it is not in the inventory. Open ports: {ports}"
                    ).format(
                        scan=row["scan_id"],
                        address=row["address"],
                        scope=row["scope"],
                        ports=", ".join(row["ports"]) or "-",
                    ),
                    {
                        "scan": row["scan_id"],
                        "scope": row["scope"],
                        "address": row["address"],
                        "ports": row["ports"],
                    },
                )
            )
    return outcome


def _deadline_sweep(app: App, schedule: Schedule) -> Outcome:
    from secops.incidents.reports import sweep

    with app.session() as session:
        found = sweep(session, DEADLINE_WINDOW, utcnow())
        outcome = Outcome(result={"deadlines": len(found)})
        for incident, state in found:
            when = "overdue" if state.status == "overdue" else "due"
            due = local(state.due, app.settings.tz) if state.due else None
            title = pick(state.title)
            subject = (
                _("Overdue: {title} for {code}") if when == "overdue" else _("Due within 24 h: {title} for {code}")
            ).format(title=title, code=incident.code)
            outcome.notices.append(
                notify.Notice(
                    f"deadline:{incident.code}:{state.kind}:{when}",
                    "deadline",
                    subject,
                    _("{code} ({incident}): {title} is due {due:%Y-%m-%d %H:%M}.").format(
                        code=incident.code, incident=incident.title, title=title, due=due
                    ),
                    {
                        "incident": incident.code,
                        "deadline": state.kind,
                        "status": state.status,
                        "due": state.due.isoformat() if state.due else None,
                    },
                )
            )
    return outcome


def next_inspection(anchor: date, months: int, today: date) -> date:
    """The first ``anchor + k·months`` on or after ``today`` (k ≥ 1; the day is clipped to 28)."""
    k = 1
    while True:
        total = anchor.month - 1 + k * months
        due = date(anchor.year + total // 12, total % 12 + 1, min(anchor.day, 28))
        if due >= today:
            return due
        k += 1


def _inspection_reminder(app: App, schedule: Schedule) -> Outcome:
    from secops.levels.rules import load_regime

    with app.session() as session:
        system = _system(session, schedule.target or "")
        level = system.effective_level
        months = load_regime(system.regime, app.settings.catalogs).inspection_interval(level)
        if months is None:
            return Outcome(result={"system": system.code, "level": level, "inspection_due": None})
        today = local(utcnow(), app.settings.tz).date()
        anchor = system.decision_date or today
        due = next_inspection(anchor, months, today)
        outcome = Outcome(result={"system": system.code, "level": level, "inspection_due": due.isoformat()})
        if (due - today).days <= REMIND_DAYS:
            outcome.notices.append(
                notify.Notice(
                    f"inspection:{system.code}:{due.isoformat()}",
                    "inspection_due",
                    _("Inspection of {code} due by {due}").format(code=system.code, due=due.isoformat()),
                    _(
                        "{name} (level {level}) must be inspected every {months} months "
                        "(Decree 85 Art. 20.2.c); "
                        "the next inspection is due by {due}."
                    ).format(name=system.name, level=level, months=months, due=due.isoformat()),
                    {
                        "system": system.code,
                        "level": level,
                        "due": due.isoformat(),
                        "interval_months": months,
                    },
                )
            )
        return outcome


def _system(session: Session, code: str) -> System:
    system = session.exec(select(System).where(System.code == code)).first()
    if system is None:
        raise NotFoundError(_("no system {code!r}").format(code=code))
    return system


def _report(app: App, schedule: Schedule) -> Outcome:
    """The managers' levels report (``secops report levels``) into ``HOME/reports/levels-<time>.<format>``."""
    try:
        from secops.reporting import render
        from secops.reporting.levels import build_levels
    except ImportError as exc:
        raise JobFailed(_("reporting not available in this version of secops")) from exc
    from secops.catalog import load_catalog

    fmt = schedule.target or "html"
    catalog = load_catalog(extra_dirs=tuple(app.settings.catalogs))
    with app.session() as session:
        report = build_levels(session, catalog, app.lang, tz=app.settings.tz)
    stamp = local(utcnow(), app.settings.tz).strftime("%Y%m%d-%H%M%S")
    path = render.write(report, fmt, app.settings.home / "reports" / f"levels-{stamp}.{fmt}")
    return Outcome(result={"report": str(path)})


JOBS: dict[str, Callable[[App, Schedule], Outcome]] = {
    "check-run": _check_run,
    "net-scan": _net_scan,
    "deadline-sweep": _deadline_sweep,
    "report": _report,
    "inspection-reminder": _inspection_reminder,
}


def execute(app: App, schedule_id: int, *, trigger: str, scheduled_for: datetime | None = None) -> int | None:
    """Run one execution of a schedule and record it; None when there is nothing to do (already ran,
    removed or paused). Failures are recorded, notified and not raised: the daemon keeps going."""
    engine = app.engine()
    with app.session() as session:
        schedule = session.get(Schedule, schedule_id)
    if schedule is None or (trigger == "scheduled" and schedule.paused):
        return None
    execution_id = service.start_execution(engine, schedule, trigger=trigger, scheduled_for=scheduled_for)
    if execution_id is None:
        log.info("schedule %s: run for %s already recorded; skipped", schedule.name, scheduled_for)
        return None
    outcome = Outcome()
    status, error = "success", None
    try:
        outcome = JOBS[schedule.job](app, schedule)
        if outcome.failure:
            status, error = "failed", outcome.failure
    except (KeyboardInterrupt, SystemExit):
        service.finish_execution(engine, execution_id, "interrupted", error=_("stopped by a signal"))
        raise
    except SecopsError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # a bug in one job must be recorded, not kill the daemon
        log.exception("schedule %s failed", schedule.name)
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    service.finish_execution(engine, execution_id, status, error=error, result=outcome.result)
    notices = list(outcome.notices)
    if status == "failed":
        notices.insert(
            0,
            notify.Notice(
                f"job-failed:{execution_id}",
                "job_failed",
                _("Scheduled job {name} failed").format(name=schedule.name),
                _("{name} ({job}, target {target}) failed: {error}").format(
                    name=schedule.name, job=schedule.job, target=schedule.target or "-", error=error
                ),
                {"schedule": schedule.name, "execution": execution_id, "error": error},
            ),
        )
    _notify(app, notices, outcome.rearm)
    return execution_id


def _notify(app: App, notices: list[notify.Notice], rearm: list[str]) -> None:
    try:
        config = notify.load_config(app.settings.section("notify"))
    except SecopsError as exc:  # a broken [notify] must not stop the schedule; say so on every run
        log.warning("notifications off: %s", exc)
        return
    notify.forget(app.engine(), rearm)
    notify.deliver(app.engine(), config, notices)
