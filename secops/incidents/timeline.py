"""The tamper-evident timeline: append-only events chained by SHA-256 over canonical JSON.

``hash = SHA-256(canonical JSON of {incident, seq, at, actor, kind, data, prev_hash})`` where canonical
means sorted keys, UTF-8, no whitespace. The incident row keeps the chain length and head, so deleting
the last event shows too. Appends are serialized per incident: PostgreSQL locks the incident row
(SELECT … FOR UPDATE); SQLite already holds the write lock from BEGIN IMMEDIATE (``secops.db``); the
unique (incident_id, seq) constraint is the last guard.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from secops.errors import NotFoundError
from secops.models.incident import Incident, TimelineEvent
from secops.timeutil import utcnow

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def stamp(at: datetime) -> str:
    """The one text form of a time inside hashed content (UTC, microseconds, ``Z``)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    code: str, seq: int, at: datetime, actor: str, kind: str, data: dict[str, Any], prev: str
) -> str:
    content = {
        "incident": code,
        "seq": seq,
        "at": stamp(at),
        "actor": actor,
        "kind": kind,
        "data": data,
        "prev_hash": prev,
    }
    return hashlib.sha256(canonical(content)).hexdigest()


def lock_incident(session: Session, code: str) -> Incident:
    """Load an incident and hold its row lock until the transaction ends (serializes appends)."""
    stmt = (
        select(Incident)
        .where(Incident.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    incident = session.exec(stmt).first()
    if incident is None:
        raise NotFoundError(f"no incident {code!r}")
    return incident


def append(
    session: Session, incident: Incident, actor: str, kind: str, data: dict[str, Any]
) -> TimelineEvent:
    """Append one event; the caller holds the incident from ``lock_incident`` (or has just created it)."""
    assert incident.id is not None
    data = json.loads(canonical(data))  # JSON-native values only, exactly as they will read back
    seq, prev, at = incident.chain_length + 1, incident.chain_head, utcnow()
    digest = event_hash(incident.code, seq, at, actor, kind, data, prev)
    event = TimelineEvent(
        incident_id=incident.id,
        seq=seq,
        at=at,
        actor=actor,
        kind=kind,
        data=data,
        prev_hash=prev,
        hash=digest,
    )
    incident.chain_length, incident.chain_head = seq, digest
    session.add(event)
    session.add(incident)
    session.flush()
    return event


def events(session: Session, incident: Incident) -> list[TimelineEvent]:
    stmt = select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
    return list(session.exec(stmt.order_by(col(TimelineEvent.seq), col(TimelineEvent.id))))


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    incident: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.incident}: chain broken at event seq {self.seq}: {self.reason}"


def verify(session: Session, incident: Incident) -> Break | None:
    """Recompute the chain of ``incident``; return the first broken event, or None when it holds."""
    prev, expected = GENESIS, 1
    for ev in events(session, incident):
        if ev.seq != expected:
            return Break(
                incident.code,
                expected,
                ev.id,
                f"expected seq {expected}, found {ev.seq} (an event was deleted or reordered)",
            )
        if ev.prev_hash != prev:
            return Break(
                incident.code,
                ev.seq,
                ev.id,
                "prev_hash does not match the previous event (events deleted, inserted or reordered)",
            )
        if event_hash(incident.code, ev.seq, ev.at, ev.actor, ev.kind, ev.data, ev.prev_hash) != ev.hash:
            return Break(
                incident.code, ev.seq, ev.id, "hash does not match the content (the event was altered)"
            )
        prev, expected = ev.hash, expected + 1
    if expected - 1 != incident.chain_length or prev != incident.chain_head:
        return Break(
            incident.code,
            expected,
            None,
            f"the chain ends at seq {expected - 1} but the incident records {incident.chain_length} "
            "events (the last events were deleted)",
        )
    return None


def get_incident(session: Session, code: str) -> Incident:
    incident = session.exec(select(Incident).where(Incident.code == code)).first()
    if incident is None:
        raise NotFoundError(f"no incident {code!r}")
    return incident
