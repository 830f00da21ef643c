"""IncidentTask: one playbook step instantiated on an incident (status, who did it, why it was skipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from secops.models.base import JSONType, UTCDateTime


class IncidentTask(SQLModel, table=True):
    __tablename__ = "incident_task"
    __table_args__ = (UniqueConstraint("incident_id", "step_id"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    number: int  # order inside the incident, 1…n
    step_id: str = Field(max_length=64)
    phase: str = Field(max_length=16)
    title: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # {vi, en}
    owner_role: str = Field(max_length=32)
    due_after: str | None = Field(default=None, max_length=16)  # event the due offset counts from
    due_offset_minutes: int | None = None
    mandatory: bool = True
    condition: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    checklist: list[Any] = Field(default_factory=list, sa_type=JSONType)
    evidence_required: list[Any] = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default="open", max_length=16)  # open | done | skipped | not_applicable
    done_by: str | None = Field(default=None, max_length=120)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = None
    evidence_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
