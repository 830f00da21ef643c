"""Attestations: manual evidence that a system meets (or fails) a requirement no host check can prove.

The evidence file goes into the content store (streamed, hashed, read-only) and only its SHA-256 is kept
in the database; an attestation stops counting once it expires.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from secops import audit
from secops.compliance.common import parse_expiry
from secops.errors import InputError, NotFoundError
from secops.i18n import _
from secops.models import System
from secops.models.compliance import Attestation
from secops.store import ContentStore
from secops.timeutil import DEFAULT_TZ, utcnow

ATTEST_STATUSES = ("met", "not_met")
MAX_EVIDENCE_BYTES = 512 * 1024 * 1024


def add_attestation(
    session: Session,
    actor: str,
    store: ContentStore,
    *,
    system_code: str,
    requirement_id: str,
    status: str,
    evidence: Path,
    expires: str,
    known_requirements: Collection[str],
    tz: str = DEFAULT_TZ,
) -> Attestation:
    """Store the evidence file and record the attestation (audited)."""
    system = session.exec(select(System).where(System.code == system_code)).first()
    if system is None or system.id is None:
        raise NotFoundError(_("no system {code!r}").format(code=system_code))
    if requirement_id not in known_requirements:
        raise InputError(
            _("unknown requirement {req!r} (see `secops check list`)").format(req=requirement_id)
        )
    if status not in ATTEST_STATUSES:
        raise InputError(_("status must be met or not_met, not {value!r}").format(value=status))
    expires_at = parse_expiry(expires, tz)
    stored = store.put_file(evidence, MAX_EVIDENCE_BYTES)
    attestation = Attestation(
        system_id=system.id,
        requirement_id=requirement_id,
        status=status,
        evidence_sha256=stored.sha256,
        evidence_name=evidence.name,
        evidence_size=stored.size,
        expires_at=expires_at,
        actor=actor,
    )
    session.add(attestation)
    session.flush()
    audit.record(
        session,
        actor,
        "attestation.create",
        "attestation",
        str(attestation.id),
        after=audit.snapshot(attestation),
    )
    return attestation


def valid_attestations(
    session: Session, system_id: int, at: datetime | None = None
) -> dict[str, Attestation]:
    """The newest unexpired attestation per requirement of a system."""
    at = at or utcnow()
    rows = session.exec(
        select(Attestation).where(Attestation.system_id == system_id).order_by(Attestation.id)  # type: ignore[arg-type]
    )
    latest: dict[str, Attestation] = {}
    for row in rows:
        if row.expires_at > at:
            latest[row.requirement_id] = row
    return latest
