"""TimelineEvent: the append-only, hash-chained history of an incident (corrections are new events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from secops.models.base import JSONType, UTCDateTime


class TimelineEvent(SQLModel, table=True):
    __tablename__ = "timeline_event"
    # The unique (incident, seq) pair is the last guard against two writers taking the same place.
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="RESTRICT")
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=120)
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
