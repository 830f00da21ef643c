"""Work the playbook's tasks: done (with the evidence the step requires) or skipped with a reason."""

from __future__ import annotations

from sqlmodel import Session, col, select

from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.incidents import timeline
from secops.incidents.lifecycle import record
from secops.models.incident import Evidence, Incident, IncidentTask
from secops.timeutil import utcnow


def list_tasks(session: Session, incident: Incident) -> list[IncidentTask]:
    stmt = select(IncidentTask).where(IncidentTask.incident_id == incident.id)
    return list(session.exec(stmt.order_by(col(IncidentTask.number))))


def find_task(session: Session, incident: Incident, ref: str) -> IncidentTask:
    """A task by its step id (``isolate_hosts``) or its number in the incident (``3``)."""
    stmt = select(IncidentTask).where(IncidentTask.incident_id == incident.id)
    stmt = (
        stmt.where(IncidentTask.number == int(ref))
        if ref.isdigit()
        else stmt.where(IncidentTask.step_id == ref)
    )
    task = session.exec(stmt).first()
    if task is None:
        raise NotFoundError(f"{incident.code}: no task {ref!r}")
    return task


def _open_task(session: Session, code: str, ref: str) -> tuple[Incident, IncidentTask]:
    incident = timeline.lock_incident(session, code)
    if incident.status == "closed":
        raise InvalidStateError(f"{code} is closed; reopen it first (`status {code} triage`)")
    task = find_task(session, incident, ref)
    if task.status != "open":
        raise InvalidStateError(f"{code}: task {task.step_id} is {task.status}, not open")
    return incident, task


def task_done(
    session: Session,
    actor: str,
    code: str,
    ref: str,
    *,
    evidence: list[str] = (),  # type: ignore[assignment]
    note: str | None = None,
) -> IncidentTask:
    """Finish a task; a step that lists required evidence needs at least one evidence item (``E1``)."""
    incident, task = _open_task(session, code, ref)
    ids: list[int] = []
    numbers: list[str] = []
    for item in evidence:
        number = item.upper().removeprefix("E")
        if not number.isdigit():
            raise InputError(f"not an evidence number: {item!r} (use E1, E2 …)")
        ev = session.exec(
            select(Evidence).where(Evidence.incident_id == incident.id, Evidence.number == int(number))
        ).first()
        if ev is None or ev.id is None:
            raise NotFoundError(f"{code}: no evidence E{number}")
        ids.append(ev.id)
        numbers.append(f"E{number}")
    if task.evidence_required and not ids:
        needed = "; ".join(e.get("en", "") for e in task.evidence_required)
        raise InvalidStateError(
            f"{code}: task {task.step_id} needs evidence before it is done ({needed}); "
            "add it with `incident evidence add` and pass --evidence E<n>"
        )
    task.status, task.done_by, task.done_at, task.evidence_ids = "done", actor, utcnow(), ids
    task.reason = note
    session.add(task)
    record(session, actor, incident, "task_done", {"task": task.step_id, "evidence": numbers, "note": note})
    return task


def task_skip(session: Session, actor: str, code: str, ref: str, reason: str) -> IncidentTask:
    if not reason.strip():
        raise InputError("skipping a task needs --reason")
    incident, task = _open_task(session, code, ref)
    task.status, task.done_by, task.done_at, task.reason = "skipped", actor, utcnow(), reason
    session.add(task)
    record(session, actor, incident, "task_skipped", {"task": task.step_id, "reason": reason})
    return task
