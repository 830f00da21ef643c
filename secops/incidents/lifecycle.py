"""Open an incident and move it through its workflow. Every change goes on the timeline and the audit log
in the same transaction (``record``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from secops import audit
from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.incidents import playbooks, timeline
from secops.incidents.vocab import (
    CATEGORIES,
    DETECTED_BY,
    FLAGS,
    RESOLUTIONS,
    SERIOUS_CONDITIONS,
    STATUSES,
    TLP_LEVELS,
    TRANSITIONS,
    choice,
)
from secops.models import System
from secops.models.incident import Incident, IncidentSystem, IncidentTask, TimelineEvent
from secops.timeutil import local, utcnow

CLOCK_SKEW = timedelta(minutes=5)


def record(
    session: Session,
    actor: str,
    incident: Incident,
    kind: str,
    data: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> TimelineEvent:
    """One change: a timeline event and its audit event, both in the caller's transaction."""
    event = timeline.append(session, incident, actor, kind, data)
    audit.record(
        session,
        actor,
        f"incident.{kind}",
        "incident",
        incident.code,
        before=before,
        after=audit.snapshot(incident),
        details={"seq": event.seq, **data},
    )
    return event


def systems_of(session: Session, incident: Incident) -> list[tuple[System, IncidentSystem]]:
    stmt = (
        select(System, IncidentSystem)
        .join(IncidentSystem, col(IncidentSystem.system_id) == System.id)
        .where(IncidentSystem.incident_id == incident.id)
        .order_by(col(System.code))
    )
    return [(s, link) for s, link in session.exec(stmt)]


def max_level(session: Session, incident: Incident) -> int | None:
    levels = [s.effective_level for s, _ in systems_of(session, incident) if s.effective_level is not None]
    return max(levels) if levels else None


def serious_flag(incident: Incident, level: int | None) -> bool:
    """Decision 05 Art. 9.1: a level 4–5 system and one of the five conditions recorded."""
    return (level or 0) >= 4 and any(c in incident.flags for c in SERIOUS_CONDITIONS)


def possibly_serious(incident: Incident, level: int | None) -> bool:
    """Flagged and not rejected by a responder."""
    return serious_flag(incident, level) and incident.serious_decision != "rejected"


def check_time(value: datetime, incident: Incident | None = None, what: str = "time") -> datetime:
    if value > utcnow() + CLOCK_SKEW:
        raise InputError(f"{what} {local(value):%Y-%m-%d %H:%M} is in the future")
    if incident is not None and value < incident.detected_at:
        raise InputError(f"{what} {local(value):%Y-%m-%d %H:%M} is before the incident was detected")
    return value


def _next_code(session: Session, year: int) -> str:
    """The next free ``SC-YYYY-NNNN``. Two openings at once must not pick the same number: SQLite already
    holds the write lock (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(7300001)"))  # type: ignore[call-overload]
    prefix = f"SC-{year}-"
    codes = session.exec(select(Incident.code).where(col(Incident.code).startswith(prefix))).all()
    numbers = [int(c.removeprefix(prefix)) for c in codes if c.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def open_incident(
    session: Session,
    actor: str,
    *,
    title: str,
    systems: list[str],
    category: str,
    detected_at: datetime,
    detected_by: str,
    detail: str | None = None,
    book: playbooks.Playbook | None = None,
    tlp: str = "amber",
    flags: list[str] | tuple[str, ...] = (),
) -> Incident:
    """Create an incident (code ``SC-YYYY-NNNN``), link its systems, instantiate the playbook's tasks."""
    choice(category, CATEGORIES, "category")
    choice(detected_by, DETECTED_BY, "detection method")
    choice(tlp, TLP_LEVELS, "TLP label")
    for flag in flags:
        choice(flag, FLAGS, "flag")
    if not title.strip():
        raise InputError("the title is empty")
    check_time(detected_at, what="detection time")
    found: list[System] = []
    for code in dict.fromkeys(systems):
        system = session.exec(select(System).where(System.code == code)).first()
        if system is None:
            raise NotFoundError(f"no system {code!r}")
        found.append(system)
    now = utcnow()
    incident = Incident(
        code=_next_code(session, local(now).year),
        title=title.strip(),
        category=category,
        detected_at=detected_at,
        detected_by=detected_by,
        detail=detail,
        tlp=tlp,
        opened_by=actor,
        opened_at=now,
        flags={f: now.isoformat() for f in flags},
        phase_times={},
        playbook_id=book.id if book else None,
        playbook_version=book.version if book else None,
    )
    session.add(incident)
    session.flush()
    assert incident.id is not None
    for system in found:
        assert system.id is not None
        session.add(
            IncidentSystem(incident_id=incident.id, system_id=system.id, level_at_link=system.effective_level)
        )
    levels = [s.effective_level for s in found if s.effective_level is not None]
    tasks = playbooks.instantiate(session, incident, book, max(levels) if levels else None) if book else []
    session.flush()
    record(
        session,
        actor,
        incident,
        "opened",
        {
            "title": incident.title,
            "category": category,
            "detected_at": detected_at.isoformat(),
            "detected_by": detected_by,
            "tlp": tlp,
            "flags": sorted(flags),
            "playbook": incident.playbook_id,
            "systems": [{"code": s.code, "level": s.effective_level} for s in found],
            "tasks": [t.step_id for t in tasks if t.status == "open"],
        },
    )
    return incident


def open_tasks(session: Session, incident: Incident) -> list[IncidentTask]:
    stmt = select(IncidentTask).where(IncidentTask.incident_id == incident.id, IncidentTask.status == "open")
    return list(session.exec(stmt.order_by(col(IncidentTask.number))))


def change_status(
    session: Session,
    actor: str,
    code: str,
    to: str,
    *,
    resolution: str | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Incident:
    """Move to ``to`` if the workflow allows it. Closing needs a resolution; ``resolved`` needs every
    mandatory task finished; a false positive or duplicate skips the open tasks (kept, with the reason)."""
    choice(to, STATUSES, "status")
    incident = timeline.lock_incident(session, code)
    before = audit.snapshot(incident)
    frm = incident.status
    if to not in TRANSITIONS[frm]:
        allowed = ", ".join(TRANSITIONS[frm])
        raise InvalidStateError(f"{code}: cannot move from {frm} to {to}; allowed from {frm}: {allowed}")
    when = check_time(at or utcnow(), incident, "status time")
    skipped: list[str] = []
    if to == "closed":
        if resolution is None:
            raise InputError(f"{code}: closing needs --resolution ({', '.join(RESOLUTIONS)})")
        choice(resolution, RESOLUTIONS, "resolution")
        pending = open_tasks(session, incident)
        if resolution == "resolved":
            blocking = [t.step_id for t in pending if t.mandatory]
            if blocking:
                raise InvalidStateError(
                    f"{code}: cannot close while mandatory tasks are open: {', '.join(blocking)}"
                    " (finish them with `task done` or `task skip --reason`)"
                )
        else:
            for task in pending:
                task.status, task.reason, task.done_by, task.done_at = (
                    "skipped",
                    f"closed as {resolution}",
                    actor,
                    when,
                )
                session.add(task)
                skipped.append(task.step_id)
        incident.resolution, incident.closed_at = resolution, when
    elif resolution is not None:
        raise InputError("--resolution is only for closing")
    if frm == "closed":  # reopen
        incident.resolution, incident.closed_at = None, None
    incident.status = to
    if to not in incident.phase_times:
        incident.phase_times = {**incident.phase_times, to: when.isoformat()}
    data: dict[str, Any] = {"from": frm, "to": to, "effective_at": when.isoformat()}
    if resolution:
        data["resolution"] = resolution
    if skipped:
        data["tasks_skipped"] = skipped
    if note:
        data["note"] = note
    record(session, actor, incident, "reopened" if frm == "closed" else "status", data, before)
    return incident


def assign(session: Session, actor: str, code: str, person: str) -> Incident:
    incident = timeline.lock_incident(session, code)
    if not person.strip():
        raise InputError("the assignee is empty")
    before = audit.snapshot(incident)
    old, incident.assignee = incident.assignee, person.strip()
    record(session, actor, incident, "assigned", {"from": old, "to": incident.assignee}, before)
    return incident


def add_note(
    session: Session, actor: str, code: str, text: str, corrects: int | None = None
) -> TimelineEvent:
    """A note; ``corrects`` names the earlier event it corrects (the old event stays as it was)."""
    incident = timeline.lock_incident(session, code)
    if not text.strip():
        raise InputError("the note is empty")
    data: dict[str, Any] = {"text": text}
    if corrects is not None:
        if not 1 <= corrects <= incident.chain_length:
            raise InputError(f"{code}: there is no event seq {corrects} to correct")
        data["corrects"] = corrects
    return record(session, actor, incident, "correction" if corrects else "note", data)


def refresh_tasks(session: Session, incident: Incident) -> tuple[list[str], list[str]]:
    """Re-check step conditions after the facts changed: (tasks now open, tasks now not applicable)."""
    level = max_level(session, incident)
    opened, dropped = [], []
    stmt = select(IncidentTask).where(
        IncidentTask.incident_id == incident.id, col(IncidentTask.condition).is_not(None)
    )
    for task in session.exec(stmt):
        holds = playbooks.condition_holds(task, incident, level)
        if holds and task.status == "not_applicable":
            task.status = "open"
            opened.append(task.step_id)
        elif not holds and task.status == "open":
            task.status = "not_applicable"
            dropped.append(task.step_id)
        session.add(task)
    return opened, dropped


def set_flags(
    session: Session, actor: str, code: str, add: list[str], clear: list[str], at: datetime | None = None
) -> Incident:
    """Record or clear conditions (Art. 9 conditions, personal data, exceeds capacity)."""
    for flag in (*add, *clear):
        choice(flag, FLAGS, "flag")
    if not add and not clear:
        raise InputError("name at least one flag to set or clear")
    incident = timeline.lock_incident(session, code)
    before = audit.snapshot(incident)
    when = check_time(at or utcnow(), incident, "flag time")
    flags = {k: v for k, v in incident.flags.items() if k not in clear}
    new = [f for f in add if f not in flags]
    flags.update({f: when.isoformat() for f in new})
    incident.flags = flags
    session.add(incident)
    opened, dropped = refresh_tasks(session, incident)
    level = max_level(session, incident)
    record(
        session,
        actor,
        incident,
        "flags",
        {
            "set": new,
            "cleared": [f for f in clear if f in before["flags"]] if before else clear,
            "effective_at": when.isoformat(),
            "possibly_serious": possibly_serious(incident, level),
            "tasks_opened": opened,
            "tasks_not_applicable": dropped,
        },
        before,
    )
    return incident


def decide_serious(session: Session, actor: str, code: str, decision: str, reason: str) -> Incident:
    """A responder confirms or rejects the "possibly serious" flag (Decision 05 Art. 9)."""
    choice(decision, ("confirmed", "rejected"), "decision")
    if not reason.strip():
        raise InputError("give the reason for the decision")
    incident = timeline.lock_incident(session, code)
    if not serious_flag(incident, max_level(session, incident)):
        raise InvalidStateError(
            f"{code}: not flagged as possibly serious (needs a level 4–5 system and one of: "
            f"{', '.join(SERIOUS_CONDITIONS)})"
        )
    before = audit.snapshot(incident)
    incident.serious_decision, incident.serious_reason = decision, reason
    record(session, actor, incident, "serious", {"decision": decision, "reason": reason}, before)
    return incident
