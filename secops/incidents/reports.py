"""Reports sent to the owner, the national coordinator and A05; the deadline sweep across incidents."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from secops.errors import InputError
from secops.incidents import deadlines, timeline
from secops.incidents.lifecycle import check_time, max_level, record
from secops.incidents.vocab import choice
from secops.models.incident import Incident, IncidentReport
from secops.timeutil import utcnow


def reports_of(session: Session, incident: Incident) -> list[IncidentReport]:
    stmt = select(IncidentReport).where(IncidentReport.incident_id == incident.id)
    return list(session.exec(stmt.order_by(col(IncidentReport.sent_at))))


def record_sent(
    session: Session,
    actor: str,
    code: str,
    kind: str,
    recipients: str,
    ref: str | None,
    at: datetime | None = None,
) -> IncidentReport:
    """Record that a report went out; the first one of a kind stops that kind's clock."""
    choice(kind, tuple(deadlines.kinds()), "report kind")
    if not recipients.strip():
        raise InputError("name the recipients with --to")
    incident = timeline.lock_incident(session, code)
    assert incident.id is not None
    when = check_time(at or utcnow(), incident, "sending time")
    seq = len([r for r in reports_of(session, incident) if r.kind == kind]) + 1
    report = IncidentReport(
        incident_id=incident.id, kind=kind, seq=seq, sent_at=when, recipients=recipients, ref=ref, actor=actor
    )
    session.add(report)
    record(
        session,
        actor,
        incident,
        "report_sent",
        {"report": kind, "seq": seq, "to": recipients, "ref": ref, "sent_at": when.isoformat()},
    )
    return report


def incident_deadlines(
    session: Session, incident: Incident, now: datetime | None = None
) -> list[deadlines.DeadlineState]:
    return deadlines.evaluate(
        incident, reports_of(session, incident), now or utcnow(), max_level(session, incident)
    )


def sweep(
    session: Session, within: timedelta | None, now: datetime | None = None
) -> list[tuple[Incident, deadlines.DeadlineState]]:
    """Every running clock (open or overdue) due before ``now + within`` (all of them when None)."""
    now = now or utcnow()
    found = []
    for incident in session.exec(select(Incident).order_by(col(Incident.code))):
        for state in incident_deadlines(session, incident, now):
            if state.status not in deadlines.OPEN_STATES or state.due is None:
                continue
            if within is None or state.due <= now + within:
                found.append((incident, state))
    found.sort(key=lambda pair: pair[1].due or now)
    return found
