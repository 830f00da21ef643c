"""Evidence custody: files streamed into the content-addressed store (``secops.store``), with custody events.

Safe by construction: the file is opened without following a symbolic link and must be a regular file
(a FIFO or device is refused before it can block or stream forever), the stored copy is named by its
SHA-256 and read-only, a name is a bare file name (no path), and a size limit stops huge inputs.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from sqlmodel import Session, col, select

from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.incidents import timeline
from secops.incidents.lifecycle import record
from secops.models.incident import CustodyEvent, Evidence, Incident
from secops.store import CHUNK, ContentStore
from secops.timeutil import utcnow

CUSTODY_ACTIONS = ("collected", "transferred", "accessed", "exported", "verified")
DEFAULT_MAX_BYTES = 20 * 1024**3
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1048576`` → bytes (binary multiples)."""
    m = _SIZE.match(text)
    if not m:
        raise InputError(f"not a size (use e.g. 500M, 2G): {text!r}")
    power: int = " KMGT".index(m.group(2).upper() or " ")
    return int(m.group(1)) * int(1024**power)


def safe_name(name: str) -> str:
    """A bare file name: no directory parts, no '..', no control characters."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or len(name) > 255
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise InputError(f"unsafe evidence name {name!r}: use a plain file name without directories")
    return name


def get_evidence(session: Session, incident: Incident, ref: str) -> Evidence:
    number = ref.upper().removeprefix("E")
    if not number.isdigit():
        raise InputError(f"not an evidence number: {ref!r} (use E1, E2 …)")
    ev = session.exec(
        select(Evidence).where(Evidence.incident_id == incident.id, Evidence.number == int(number))
    ).first()
    if ev is None:
        raise NotFoundError(f"{incident.code}: no evidence E{number}")
    return ev


def list_evidence(session: Session, incident: Incident) -> list[Evidence]:
    stmt = select(Evidence).where(Evidence.incident_id == incident.id)
    return list(session.exec(stmt.order_by(col(Evidence.number))))


def custody_of(session: Session, ev: Evidence) -> list[CustodyEvent]:
    stmt = select(CustodyEvent).where(CustodyEvent.evidence_id == ev.id)
    return list(session.exec(stmt.order_by(col(CustodyEvent.at), col(CustodyEvent.id))))


def _custody(
    session: Session,
    actor: str,
    incident: Incident,
    ev: Evidence,
    action: str,
    person: str,
    purpose: str,
    *,
    to_person: str | None = None,
    location: str | None = None,
    ok: bool | None = None,
) -> CustodyEvent:
    assert ev.id is not None
    event = CustodyEvent(
        evidence_id=ev.id,
        at=utcnow(),
        action=action,
        person=person,
        purpose=purpose,
        to_person=to_person,
        location=location,
        sha256_ok=ok,
    )
    session.add(event)
    record(
        session,
        actor,
        incident,
        "custody",
        {
            "evidence": f"E{ev.number}",
            "action": action,
            "person": person,
            "purpose": purpose,
            "to": to_person,
            "location": location,
            "sha256_ok": ok,
        },
    )
    return event


def add_evidence(
    session: Session,
    store: ContentStore,
    actor: str,
    code: str,
    path: Path,
    description: str,
    *,
    name: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    collected_by: str | None = None,
    purpose: str | None = None,
) -> Evidence:
    """Stream ``path`` into the store (before any database lock is taken), then record it and its custody."""
    if not description.strip():
        raise InputError("describe the evidence with --description")
    label = safe_name(name if name is not None else path.name)
    stored = store.put_file(path, max_bytes)
    incident = timeline.lock_incident(session, code)
    assert incident.id is not None
    number = len(list_evidence(session, incident)) + 1
    person = collected_by or actor
    ev = Evidence(
        incident_id=incident.id,
        number=number,
        name=label,
        sha256=stored.sha256,
        size=stored.size,
        description=description,
        collected_by=person,
        collected_at=utcnow(),
    )
    session.add(ev)
    session.flush()
    record(
        session,
        actor,
        incident,
        "evidence_added",
        {"evidence": f"E{number}", "name": label, "sha256": ev.sha256, "size": ev.size, "description": description},
    )
    _custody(session, actor, incident, ev, "collected", person, purpose or description)
    return ev


def add_custody(
    session: Session,
    actor: str,
    code: str,
    ref: str,
    action: str,
    person: str,
    purpose: str,
    *,
    to_person: str | None = None,
    location: str | None = None,
) -> CustodyEvent:
    """Record a hand-over or an access by a person, with the purpose."""
    if action not in ("transferred", "accessed"):
        raise InputError("custody action must be transferred or accessed (exports use `evidence export`)")
    if action == "transferred" and not to_person:
        raise InputError("a transfer needs --to PERSON")
    if not purpose.strip():
        raise InputError("give the purpose with --purpose")
    incident = timeline.lock_incident(session, code)
    ev = get_evidence(session, incident, ref)
    return _custody(
        session, actor, incident, ev, action, person, purpose, to_person=to_person, location=location
    )


def export_evidence(
    session: Session,
    store: ContentStore,
    actor: str,
    code: str,
    ref: str,
    dest_dir: Path,
    purpose: str,
    to_person: str | None = None,
) -> Path:
    """Copy the stored file out (never overwriting, never through a link), re-hashing it on the way."""
    if not purpose.strip():
        raise InputError("give the purpose with --purpose")
    incident = timeline.lock_incident(session, code)
    ev = get_evidence(session, incident, ref)
    if not dest_dir.is_dir():
        raise InputError(f"{dest_dir}: not a directory")
    target = dest_dir / safe_name(ev.name)
    digest = hashlib.sha256()
    try:
        out_fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError as exc:
        raise InputError(f"{target} already exists; choose another directory") from exc
    try:
        with os.fdopen(out_fd, "wb") as out, store.path_for(ev.sha256).open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    ok = digest.hexdigest() == ev.sha256
    _custody(
        session,
        actor,
        incident,
        ev,
        "exported",
        actor,
        purpose,
        to_person=to_person,
        location=str(target),
        ok=ok,
    )
    if not ok:
        target.unlink(missing_ok=True)
        raise InvalidStateError(
            f"{code} E{ev.number}: the stored copy no longer matches its SHA-256; not exported"
        )
    return target


def verify_evidence(
    session: Session, store: ContentStore, actor: str, code: str, ref: str | None = None
) -> list[tuple[Evidence, bool]]:
    """Re-hash the stored files of an incident (or one item); each check is a custody event."""
    incident = timeline.lock_incident(session, code)
    items = [get_evidence(session, incident, ref)] if ref else list_evidence(session, incident)
    results = []
    for ev in items:
        ok = store.verify(ev.sha256)
        _custody(session, actor, incident, ev, "verified", actor, "integrity check", ok=ok)
        results.append((ev, ok))
    return results
