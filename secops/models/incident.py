"""Incident (sự cố an toàn thông tin mạng) and the systems it affects (Circular 20/2017).

The other nouns of the feature live in ``incident_*.py`` beside this file and are imported here, so
``import secops.models.incident`` registers every incident table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from secops.models.base import JSONType, UTCDateTime, utcnow


class Incident(SQLModel, table=True):
    """One incident. ``chain_length``/``chain_head`` anchor the timeline so a deleted last event shows."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)  # SC-2026-0001
    title: str = Field(max_length=300)
    category: str = Field(max_length=32, index=True)
    detected_at: datetime = Field(sa_type=UTCDateTime, index=True)  # discovery: the legal clocks start here
    detected_by: str = Field(max_length=16)  # ids | log | notified | other
    detail: str | None = None
    tlp: str = Field(default="amber", max_length=16)
    status: str = Field(default="new", max_length=16, index=True)
    resolution: str | None = Field(default=None, max_length=16)
    playbook_id: str | None = Field(default=None, max_length=64)
    playbook_version: str | None = Field(default=None, max_length=32)
    assignee: str | None = Field(default=None, max_length=120)
    # Recorded conditions (Decision 05 Art. 9 and others): {flag: ISO time it was recorded}.
    flags: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    serious_decision: str | None = Field(default=None, max_length=16)  # confirmed | rejected
    serious_reason: str | None = None
    # First time the incident entered each status (effective time, ISO UTC): task dues and Form 04 clock.
    phase_times: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_by: str = Field(max_length=120)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chain_length: int = 0
    chain_head: str = Field(default="0" * 64, max_length=64)


class IncidentSystem(SQLModel, table=True):
    """An affected system, with the security level it had when it was linked."""

    __tablename__ = "incident_system"
    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="RESTRICT")
    level_at_link: int | None = None


class IncidentReport(SQLModel, table=True):
    """A report sent (notification, Form 03, Form 04, personal-data notice): stops its legal clock."""

    __tablename__ = "incident_report"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    seq: int = 1
    sent_at: datetime = Field(sa_type=UTCDateTime)
    recipients: str = Field(max_length=500)
    ref: str | None = Field(default=None, max_length=120)
    actor: str = Field(max_length=120)


from secops.models.incident_evidence import CustodyEvent, Evidence  # noqa: E402
from secops.models.incident_observable import Observable  # noqa: E402
from secops.models.incident_task import IncidentTask  # noqa: E402
from secops.models.incident_timeline import TimelineEvent  # noqa: E402

__all__ = [
    "CustodyEvent",
    "Evidence",
    "Incident",
    "IncidentReport",
    "IncidentSystem",
    "IncidentTask",
    "Observable",
    "TimelineEvent",
]
