"""Compliance tables: check runs, the fact bundles they collected, per-check results, attestations, waivers.

Facts are stored raw so a changed catalog, waiver or level can be re-scored without touching any host
(``secops check rescore``). Results keep the status underneath a waiver, so nothing is ever hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from secops.models.base import JSONType, UTCDateTime, utcnow

RUN_STATUSES = ("running", "completed", "incomplete", "interrupted")
RESULT_STATUSES = ("pass", "fail", "error", "skipped", "manual", "waived", "not_applicable")


class CheckRun(SQLModel, table=True):
    """One ``check run`` or ``check rescore``. ``pid``/``hostname``/``heartbeat_at`` let the next command
    notice a run whose process died (it is then marked ``interrupted``)."""

    __tablename__ = "check_run"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="collect", max_length=16)  # collect | rescore
    status: str = Field(default="running", max_length=16, index=True)
    actor: str = Field(max_length=120)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    pid: int | None = None
    hostname: str | None = Field(default=None, max_length=255)
    selection: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType
    )  # systems, hosts, all, transport
    source_run_id: int | None = Field(default=None, foreign_key="check_run.id", ondelete="SET NULL")
    hosts_total: int = 0
    hosts_done: int = 0


class FactBundle(SQLModel, table=True):
    """The raw facts collected from one host in one run, with the SHA-256 of their canonical JSON."""

    __tablename__ = "fact_bundle"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="check_run.id", index=True, ondelete="CASCADE")
    host_id: int | None = Field(default=None, foreign_key="host.id", ondelete="SET NULL")
    host_name: str = Field(max_length=128)
    transport: str = Field(max_length=16)
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # fact id -> RawFact JSON
    # Network observations (nmap) of the host's address at evaluation time: fact id -> value, or
    # {"unavailable": status, "reason": …}. Kept so a rescore sees exactly what the run saw.
    observed: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    sha256: str = Field(max_length=64)
    host_key_fingerprint: str | None = Field(default=None, max_length=128)
    error: str | None = None
    error_kind: str | None = Field(default=None, max_length=32)
    collected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    duration_s: float = 0.0


class CheckResult(SQLModel, table=True):
    """One check on one host in one run. ``status`` is what counts; ``original_status`` is the evaluated
    status underneath a waiver (equal to ``status`` when no waiver applied)."""

    __tablename__ = "check_result"
    __table_args__ = (Index("ix_check_result_run_host", "run_id", "host_name"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="check_run.id", ondelete="CASCADE")
    bundle_id: int | None = Field(default=None, foreign_key="fact_bundle.id", ondelete="SET NULL")
    host_id: int | None = Field(default=None, foreign_key="host.id", ondelete="SET NULL", index=True)
    host_name: str = Field(max_length=128)
    system_id: int | None = Field(default=None, foreign_key="system.id", ondelete="SET NULL")
    check_id: str = Field(max_length=128, index=True)
    status: str = Field(max_length=16)
    original_status: str = Field(max_length=16)
    severity: str = Field(default="medium", max_length=16)
    requirements: list[str] = Field(default_factory=list, sa_type=JSONType)
    expected: Any = Field(default=None, sa_type=JSONType)
    observed: Any = Field(default=None, sa_type=JSONType)
    detail: str = ""
    waiver_id: int | None = Field(default=None, foreign_key="waiver.id", ondelete="SET NULL")


class Attestation(SQLModel, table=True):
    """Manual evidence that a system meets (or does not meet) a requirement, valid until ``expires_at``."""

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="system.id", index=True, ondelete="CASCADE")
    requirement_id: str = Field(max_length=128)
    status: str = Field(max_length=16)  # met | not_met
    evidence_sha256: str = Field(max_length=64)
    evidence_name: str = Field(max_length=255)
    evidence_size: int = 0
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=120)


class Waiver(SQLModel, table=True):
    """An approved, expiring exception for one check on a host pattern or a whole system."""

    id: int | None = Field(default=None, primary_key=True)
    check_id: str = Field(max_length=128, index=True)
    host_pattern: str | None = Field(default=None, max_length=255)  # glob on host names
    system_id: int | None = Field(default=None, foreign_key="system.id", ondelete="CASCADE")
    reason: str = ""
    approver: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=120)
