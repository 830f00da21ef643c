"""The audit log: every change writes an AuditEvent in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel

from secops.models.audit import AuditEvent


def snapshot(obj: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-safe picture of a row, for the before/after columns."""
    return None if obj is None else obj.model_dump(mode="json")


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it describes)."""
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        details=details,
    )
    session.add(event)
    return event
