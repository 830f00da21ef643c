"""Schedules and their history: add, change, list, and record executions (every change audited)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from secops import audit, db
from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.i18n import _
from secops.inventory.queries import get_scope
from secops.models import System
from secops.models.schedule import JOB_KINDS, JobExecution, Schedule, apscheduler_jobs
from secops.scheduler.triggers import build_trigger, cron_trigger, describe, next_fire
from secops.timeutil import utcnow

JOB_ID_PREFIX = "schedule-"
REPORT_FORMATS = ("html", "pdf", "json", "csv")


def job_id(schedule: Schedule) -> str:
    return f"{JOB_ID_PREFIX}{schedule.id}"


@dataclass(frozen=True)
class Spec:
    """What ``schedule add`` and ``schedule defaults`` ask for."""

    name: str
    job: str
    target: str | None
    cron: str | None = None
    every_seconds: int | None = None
    options: dict[str, Any] | None = None


def validate(session: Session, spec: Spec, tz: str) -> None:
    """Job kind, trigger and target must make sense before anything is stored."""
    if not spec.name.strip() or len(spec.name) > 120:
        raise InputError(_("a schedule name must be 1 to 120 characters"))
    if spec.job not in JOB_KINDS:
        raise InputError(
            _("unknown job {job!r}; choose one of: {known}").format(job=spec.job, known=", ".join(JOB_KINDS))
        )
    if bool(spec.cron) == bool(spec.every_seconds):
        raise InputError(_("give exactly one of --cron or --every"))
    if spec.cron:
        cron_trigger(spec.cron, tz)
    target = (spec.target or "").strip()
    if spec.job in ("check-run", "net-scan", "inspection-reminder") and not target:
        raise InputError(_("job {job} needs --target").format(job=spec.job))
    if spec.job in ("check-run", "inspection-reminder") and target != "all":
        for code in target.split(","):
            if session.exec(select(System).where(System.code == code.strip())).first() is None:
                raise NotFoundError(_("no system {code!r}").format(code=code.strip()))
    if spec.job == "report" and target not in ("", *REPORT_FORMATS):
        raise InputError(
            _("job report: --target is the report format, one of: {known}").format(known=", ".join(REPORT_FORMATS))
        )
    if spec.job == "net-scan":
        get_scope(session, target)  # raises NotFoundError naming the scope


def add(session: Session, actor: str, spec: Spec, tz: str, *, origin: str = "user") -> Schedule:
    validate(session, spec, tz)
    if session.exec(select(Schedule).where(Schedule.name == spec.name)).first() is not None:
        raise InvalidStateError(_("a schedule named {name} already exists").format(name=spec.name))
    schedule = Schedule(
        name=spec.name,
        job=spec.job,
        target=(spec.target or "").strip() or None,
        cron=spec.cron,
        every_seconds=spec.every_seconds,
        options=spec.options or {},
        origin=origin,
        actor=actor,
    )
    session.add(schedule)
    session.flush()
    audit.record(session, actor, "schedule.add", "schedule", spec.name, after=audit.snapshot(schedule))
    return schedule


def get(session: Session, name: str) -> Schedule:
    schedule = session.exec(select(Schedule).where(Schedule.name == name)).first()
    if schedule is None:
        raise NotFoundError(_("no schedule named {name}").format(name=name))
    return schedule


def all_schedules(session: Session) -> list[Schedule]:
    return list(session.exec(select(Schedule).order_by(col(Schedule.name))))


def change(session: Session, actor: str, schedule: Schedule, action: str, **values: Any) -> Schedule:
    """Apply ``values``, bump the version (the daemon re-syncs) and audit before/after."""
    before = audit.snapshot(schedule)
    for key, value in values.items():
        setattr(schedule, key, value)
    schedule.version += 1
    schedule.updated_at = utcnow()
    session.add(schedule)
    session.flush()
    audit.record(session, actor, action, "schedule", schedule.name, before=before, after=audit.snapshot(schedule))
    return schedule


def set_paused(session: Session, actor: str, name: str, paused: bool) -> Schedule:
    schedule = get(session, name)
    if schedule.paused == paused:
        return schedule
    return change(session, actor, schedule, "schedule.pause" if paused else "schedule.resume", paused=paused)


def remove(session: Session, actor: str, name: str) -> None:
    """Delete a schedule; its history stays (``schedule_name`` keeps it findable)."""
    schedule = get(session, name)
    before = audit.snapshot(schedule)
    session.delete(schedule)
    audit.record(session, actor, "schedule.remove", "schedule", name, before=before)


def signature(session: Session) -> tuple[tuple[int, int, bool], ...]:
    """A cheap fingerprint of the table; the daemon re-syncs when it changes."""
    rows = session.exec(select(Schedule.id, Schedule.version, Schedule.paused).order_by(col(Schedule.id)))
    return tuple((int(i or 0), int(v), bool(p)) for i, v, p in rows)


def next_runs(session: Session) -> dict[str, float]:
    """``job id -> next run (epoch)`` from APScheduler's job store."""
    rows = session.connection().execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
    return {str(i): float(t) for i, t in rows if t is not None}


def listing(session: Session, tz: str) -> list[dict[str, Any]]:
    """Every schedule with its trigger, state, next run and last execution."""
    stored = next_runs(session)
    now = utcnow()
    rows = []
    for s in all_schedules(session):
        last = session.exec(
            select(JobExecution)
            .where(JobExecution.schedule_name == s.name)
            .order_by(col(JobExecution.started).desc(), col(JobExecution.id).desc())
        ).first()
        nxt: datetime | None = None
        if not s.paused:
            if job_id(s) in stored:
                nxt = datetime.fromtimestamp(stored[job_id(s)], tz=now.tzinfo)
            else:
                nxt = next_fire(s.cron, s.every_seconds, s.updated_at, now, tz)
        rows.append(
            {
                "name": s.name,
                "job": s.job,
                "target": s.target,
                "schedule": describe(s.cron, s.every_seconds),
                "paused": s.paused,
                "origin": s.origin,
                "next_run": nxt,
                "last_status": last.status if last else None,
                "last_started": last.started if last else None,
            }
        )
    return rows


def history(session: Session, name: str, limit: int) -> list[JobExecution]:
    """The last ``limit`` executions of ``name``, oldest first (also after the schedule was removed)."""
    rows = list(
        session.exec(
            select(JobExecution)
            .where(JobExecution.schedule_name == name)
            .order_by(col(JobExecution.started).desc(), col(JobExecution.id).desc())
            .limit(limit)
        )
    )
    if not rows and session.exec(select(Schedule).where(Schedule.name == name)).first() is None:
        raise NotFoundError(_("no schedule named {name}").format(name=name))
    return list(reversed(rows))


def start_execution(engine: Engine, schedule: Schedule, *, trigger: str, scheduled_for: datetime | None) -> int | None:
    """Record a run as started; None when this fire time was already started (never run it twice)."""
    try:
        with db.session_scope(engine) as session:
            execution = JobExecution(
                schedule_id=schedule.id,
                schedule_name=schedule.name,
                job=schedule.job,
                trigger=trigger,
                scheduled_for=scheduled_for,
                host=socket.gethostname(),
                pid=os.getpid(),
            )
            session.add(execution)
            session.flush()
            return execution.id
    except IntegrityError:
        return None


def finish_execution(
    engine: Engine,
    execution_id: int,
    status: str,
    *,
    error: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    with db.session_scope(engine) as session:
        session.execute(
            update(JobExecution)
            .where(col(JobExecution.id) == execution_id)
            .values(status=status, finished=utcnow(), error=error, result=result or {})
        )


def record_missed(engine: Engine, schedule_id: int, scheduled_for: datetime, reason: str) -> bool:
    """A fire time that was skipped (down too long, or the previous run still running)."""
    try:
        with db.session_scope(engine) as session:
            schedule = session.get(Schedule, schedule_id)
            if schedule is None:
                return False
            now = utcnow()
            session.add(
                JobExecution(
                    schedule_id=schedule_id,
                    schedule_name=schedule.name,
                    job=schedule.job,
                    scheduled_for=scheduled_for,
                    started=scheduled_for,
                    finished=now,
                    status="missed",
                    error=reason,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )
        return True
    except IntegrityError:
        return False


def mark_interrupted(engine: Engine, *, only_pids: set[int] | None = None) -> int:
    """Executions left ``running`` by a dead scheduler (or, with ``only_pids``, by these processes here)."""
    host = socket.gethostname()
    with db.session_scope(engine) as session:
        running = list(session.exec(select(JobExecution).where(JobExecution.status == "running")))
        count = 0
        for execution in running:
            if only_pids is not None and (execution.host != host or execution.pid not in only_pids):
                continue
            if only_pids is None and execution.trigger == "manual" and _alive_here(execution):
                continue
            execution.status, execution.finished = "interrupted", utcnow()
            execution.error = execution.error or _("the process running it stopped before it finished")
            session.add(execution)
            count += 1
        return count


def _alive_here(execution: JobExecution) -> bool:
    """A manual run is alive while its process is, when it runs on this host (elsewhere: assume alive)."""
    if execution.host != socket.gethostname() or execution.pid is None:
        return True
    try:
        os.kill(execution.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = [
    "Spec",
    "add",
    "build_trigger",
    "change",
    "describe",
    "get",
    "history",
    "listing",
    "remove",
    "set_paused",
]
