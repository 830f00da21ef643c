"""Recording the approval decision (Art. 12, 17) and the dossier items (Art. 15); every change is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from secops import audit
from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.i18n import _
from secops.levels.engine import Classification, classify_systems
from secops.levels.rules import load_regime
from secops.models.system import System

_APPROVAL = ("approved_level", "decision_ref", "decision_date", "approver", "approval_reason")


def get_system(session: Session, code: str) -> System:
    system = session.exec(select(System).where(System.code == code)).first()
    if system is None:
        raise NotFoundError(_("unknown system: {code}").format(code=code))
    return system


def approve(
    session: Session,
    code: str,
    *,
    level: int,
    decision: str,
    decided_on: date,
    approver: str,
    actor: str,
    force: bool = False,
    reason: str | None = None,
    catalogs: Sequence[Path] = (),
) -> Classification:
    """Record the approved level. Below the proposed level, or for an undetermined system, only with
    ``force`` and a ``reason`` (kept on the system and in the audit event)."""
    if not 1 <= level <= 5:
        raise InputError(_("--level must be 1–5, got {level}").format(level=level))
    if not decision.strip() or not approver.strip():
        raise InputError(_("--decision and --approver must not be empty"))
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise InputError(_("--force needs --reason TEXT (it is kept in the audit log)"))
    system = get_system(session, code)
    current = classify_systems(session, [code], actor, catalogs=catalogs)[0]
    proposed = current.proposed_level
    if proposed is None and not force:
        missing = ", ".join(current.missing) or "-"
        raise InvalidStateError(_(
            "system {code} is undetermined (missing: {missing}); record the missing inputs and classify "
            "again, or approve with --force --reason TEXT").format(code=code, missing=missing))
    if proposed is not None and level < proposed and not force:
        raise InvalidStateError(_(
            "level {level} is below the proposed level {proposed} of {code}; "
            "approving below the proposal needs --force --reason TEXT").format(
                level=level, proposed=proposed, code=code))
    before = {k: getattr(system, k) for k in _APPROVAL}
    system.approved_level = level
    system.decision_ref = decision.strip()
    system.decision_date = decided_on
    system.approver = approver.strip()
    system.approval_reason = reason
    session.add(system)
    after = {k: getattr(system, k) for k in _APPROVAL}
    forced = proposed is None or level < proposed
    audit.record(session, actor, "level.approve", "system", code,
                 before={k: _json(v) for k, v in before.items()},
                 after={k: _json(v) for k, v in after.items()},
                 details={"proposed_level": proposed, "proposed_status": current.proposed_status,
                          "forced": forced, "reason": reason})
    session.flush()
    return classify_systems(session, [code], actor, catalogs=catalogs)[0]


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def record_dossier(
    session: Session, code: str, item: str, *, ref: str | None, actor: str, remove: bool = False,
    catalogs: Sequence[Path] = (),
) -> dict[str, str]:
    """Mark dossier ``item`` present with a reference (document number, path…), or remove it."""
    system = get_system(session, code)
    regime = load_regime(system.regime or "decree85", catalogs)
    ids = [d.id for d in regime.dossier]
    if item not in ids:
        raise InputError(_("unknown dossier item {item!r}; use one of: {items}").format(
            item=item, items=", ".join(ids)))
    if not remove and not (ref or "").strip():
        raise InputError(_("--ref TEXT is required (the document number or location)"))
    before = dict(system.dossier or {})
    after = dict(before)
    if remove:
        if item not in after:
            raise InvalidStateError(_("dossier item {item!r} of {code} is not recorded").format(
                item=item, code=code))
        del after[item]
    else:
        after[item] = (ref or "").strip()
    if after != before:
        system.dossier = after  # a new dict, so the JSON column is seen as changed
        session.add(system)
        audit.record(session, actor, "level.dossier", "system", code, before={"dossier": before},
                     after={"dossier": after}, details={"item": item, "removed": remove})
        session.flush()
    return after
