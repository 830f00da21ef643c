"""Observable / indicator of compromise (ip, domain, url, hash, email) with its TLP 2.0 label."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from secops.models.base import UTCDateTime


class Observable(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "type", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=16)
    value: str = Field(max_length=2048, index=True)
    tlp: str = Field(default="amber", max_length=16)
    source: str = Field(default="manual", max_length=32)  # manual | note:<seq>
    added_by: str = Field(max_length=120)
    added_at: datetime = Field(sa_type=UTCDateTime)
