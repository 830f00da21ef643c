"""Schedules (our source of truth), their execution history, the scheduler lock and sent notifications.

APScheduler keeps its own job store table (``apscheduler_jobs``) in the same database; it is declared here
too so alembic creates it and autogenerate never proposes to drop it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from secops.models.base import JSONType, UTCDateTime, utcnow

JOB_KINDS = ("check-run", "net-scan", "deadline-sweep", "report", "inspection-reminder")
EXECUTION_STATUSES = ("running", "success", "failed", "interrupted", "missed")


class Schedule(SQLModel, table=True):
    """One timetable entry. ``version`` grows on every change so the daemon knows to re-sync its job."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True, index=True)
    job: str = Field(max_length=32)
    target: str | None = Field(default=None, max_length=300)
    cron: str | None = Field(default=None, max_length=120)
    every_seconds: int | None = None
    paused: bool = False
    origin: str = Field(default="user", max_length=16)  # user | defaults
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(default="unknown", max_length=120)


class JobExecution(SQLModel, table=True):
    """One run (or missed run) of a schedule. ``(schedule_id, scheduled_for)`` is unique, so a fire time that
    was already started (e.g. before a crash) is never run twice; manual runs have no ``scheduled_for``."""

    __tablename__ = "job_execution"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for", name="uq_job_execution_fire"),)
    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id", ondelete="SET NULL", index=True)
    schedule_name: str = Field(max_length=120, index=True)
    job: str = Field(max_length=32)
    trigger: str = Field(default="scheduled", max_length=16)  # scheduled | manual
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", max_length=16)
    error: str | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # {"check_run": 12} …
    host: str = Field(default="", max_length=255)
    pid: int | None = None


class SchedulerLock(SQLModel, table=True):
    """The one running scheduler of a database: owner ``host:pid:token`` and its heartbeat."""

    __tablename__ = "scheduler_lock"
    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=300)
    host: str = Field(max_length=255)
    pid: int
    acquired: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationSent(SQLModel, table=True):
    """A notification already delivered; the unique ``key`` keeps us from sending the same thing twice."""

    __tablename__ = "notification_sent"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True, index=True)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    channels: list[str] = Field(default_factory=list, sa_type=JSONType)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# APScheduler 3's SQLAlchemyJobStore table, same columns as it creates itself.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
