"""Evidence (a file in the content-addressed store) and its chain of custody."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, UniqueConstraint

from secops.models.base import UTCDateTime


class Evidence(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="RESTRICT")
    number: int  # E1, E2 … inside the incident
    name: str = Field(max_length=255)  # a bare file name, never a path
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(sa_type=BigInteger)
    description: str
    collected_by: str = Field(max_length=120)
    collected_at: datetime = Field(sa_type=UTCDateTime)


class CustodyEvent(SQLModel, table=True):
    """Who had the evidence, what they did with it and why (collected, transferred, accessed, exported…)."""

    __tablename__ = "custody_event"
    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True, ondelete="RESTRICT")
    at: datetime = Field(sa_type=UTCDateTime)
    action: str = Field(max_length=16)
    person: str = Field(max_length=120)
    purpose: str
    to_person: str | None = Field(default=None, max_length=120)
    location: str | None = Field(default=None, max_length=300)
    sha256_ok: bool | None = None
