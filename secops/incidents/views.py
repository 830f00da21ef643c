"""Read models: the contract JSON of ``incident show``, list rows and the full export."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from secops.incidents import evidence, observables, playbooks, reports, tasks, timeline
from secops.incidents.lifecycle import max_level, possibly_serious, systems_of
from secops.models.incident import CustodyEvent, Incident
from secops.timeutil import utcnow


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def custody_item(event: CustodyEvent) -> dict[str, Any]:
    """One custody event as the CLI's JSON and the incident export show it."""
    return {
        "at": iso(event.at),
        "action": event.action,
        "person": event.person,
        "purpose": event.purpose,
        "to": event.to_person,
        "location": event.location,
        "sha256_ok": event.sha256_ok,
    }


def show(session: Session, incident: Incident) -> dict[str, Any]:
    """The contract keys (code, title, status, category, systems, possibly_serious, tasks, deadlines,
    timeline) plus extras."""
    level = max_level(session, incident)
    states = reports.incident_deadlines(session, incident)
    form04_sent = any(s.kind == "form04" and s.status in ("sent", "sent_late") for s in states)
    return {
        "code": incident.code,
        "title": incident.title,
        "status": incident.status,
        "category": incident.category,
        "systems": [
            {"code": s.code, "level": s.effective_level, "name": s.name}
            for s, _ in systems_of(session, incident)
        ],
        "possibly_serious": possibly_serious(incident, level),
        "serious_decision": incident.serious_decision,
        "resolution": incident.resolution,
        "detected_at": iso(incident.detected_at),
        "detected_by": incident.detected_by,
        "opened_at": iso(incident.opened_at),
        "closed_at": iso(incident.closed_at),
        "closed_with_coordinator": incident.status == "closed" and form04_sent,
        "assignee": incident.assignee,
        "tlp": incident.tlp,
        "playbook": incident.playbook_id,
        "flags": sorted(incident.flags),
        "detail": incident.detail,
        "tasks": [
            {
                "id": t.step_id,
                "number": t.number,
                "phase": t.phase,
                "title": t.title,
                "status": t.status,
                "due": iso(playbooks.task_due(incident, t)),
                "owner": t.owner_role,
                "mandatory": t.mandatory,
            }
            for t in tasks.list_tasks(session, incident)
        ],
        "deadlines": [s.as_json() for s in states],
        "timeline": [
            {
                "seq": e.seq,
                "at": iso(e.at),
                "actor": e.actor,
                "kind": e.kind,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
                "data": e.data,
            }
            for e in timeline.events(session, incident)
        ],
    }


def full_export(session: Session, incident: Incident) -> dict[str, Any]:
    """Everything about one incident, for archiving (``incident export --format json``)."""
    data = show(session, incident)
    broken = timeline.verify(session, incident)
    data["chain"] = {
        "length": incident.chain_length,
        "head": incident.chain_head,
        "verified": broken is None,
        "broken": str(broken) if broken else None,
    }
    data["evidence"] = [
        {
            "id": f"E{ev.number}",
            "name": ev.name,
            "sha256": ev.sha256,
            "size": ev.size,
            "description": ev.description,
            "collected_by": ev.collected_by,
            "collected_at": iso(ev.collected_at),
            "custody": [custody_item(c) for c in evidence.custody_of(session, ev)],
        }
        for ev in evidence.list_evidence(session, incident)
    ]
    data["observables"] = [
        {"type": o.type, "value": o.value, "tlp": o.tlp, "source": o.source}
        for o in observables.list_observables(session, incident)
    ]
    data["reports"] = [
        {
            "kind": r.kind,
            "seq": r.seq,
            "sent_at": iso(r.sent_at),
            "to": r.recipients,
            "ref": r.ref,
            "actor": r.actor,
        }
        for r in reports.reports_of(session, incident)
    ]
    data["exported_at"] = iso(utcnow())
    return data


def list_rows(session: Session, status: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    stmt = select(Incident).order_by(col(Incident.code))
    if status:
        stmt = stmt.where(Incident.status == status)
    elif open_only:
        stmt = stmt.where(Incident.status != "closed")
    rows = []
    for incident in session.exec(stmt):
        level = max_level(session, incident)
        rows.append(
            {
                "code": incident.code,
                "title": incident.title,
                "status": incident.status,
                "category": incident.category,
                "detected_at": iso(incident.detected_at),
                "systems": [s.code for s, _ in systems_of(session, incident)],
                "level": level,
                "possibly_serious": possibly_serious(incident, level),
                "assignee": incident.assignee,
                "tlp": incident.tlp,
            }
        )
    return rows
