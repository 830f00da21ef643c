"""Network observations: NetworkScan (one nmap run or import), ObservedHost and ObservedPort.

Observed hosts link to inventory hosts by address (a query-time join), so an inventory loaded after the
scan still matches, and deleting a host never touches the observation record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from secops.models.base import JSONType, UTCDateTime, utcnow


class NetworkScan(SQLModel, table=True):
    __tablename__ = "network_scan"
    id: int | None = Field(default=None, primary_key=True)
    scope_id: int | None = Field(default=None, foreign_key="scope.id", ondelete="SET NULL", index=True)
    profile: str = Field(max_length=32)  # a named profile, or "imported"
    source: str = Field(default="scan", max_length=16)  # scan | import
    targets: list[str] = Field(default_factory=list, sa_type=JSONType)
    command: str | None = None  # nmap's own record of its arguments
    nmap_version: str | None = None
    xml_version: str | None = None
    scaninfo: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)  # type, protocol, services
    started: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hosts_up: int = 0
    hosts_down: int = 0
    raw_sha256: str | None = Field(default=None, max_length=64)
    raw_size: int | None = None
    filename: str | None = None
    actor: str = Field(default="unknown", max_length=120)
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ObservedHost(SQLModel, table=True):
    __tablename__ = "observed_host"
    id: int | None = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="network_scan.id", ondelete="CASCADE", index=True)
    address: str = Field(max_length=64, index=True)
    address_type: str = Field(default="ipv4", max_length=8)
    state: str = Field(max_length=32)  # up | down | unknown | skipped
    reason: str | None = None
    hostnames: list[str] | None = Field(default=None, sa_type=JSONType)
    mac: str | None = None
    vendor: str | None = None
    os_name: str | None = None
    os_accuracy: int | None = None
    scripts: dict[str, str] | None = Field(default=None, sa_type=JSONType)  # host scripts: id -> output


class ObservedPort(SQLModel, table=True):
    __tablename__ = "observed_port"
    id: int | None = Field(default=None, primary_key=True)
    observed_host_id: int = Field(foreign_key="observed_host.id", ondelete="CASCADE", index=True)
    protocol: str = Field(max_length=8)
    port: int
    state: str = Field(max_length=32)  # open | closed | filtered | open|filtered | …
    reason: str | None = None
    service: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    tunnel: str | None = None
    method: str | None = None
    cpe: str | None = None
    scripts: dict[str, str] | None = Field(default=None, sa_type=JSONType)  # NSE id -> output
    tls: dict[str, Any] | None = Field(default=None, sa_type=JSONType)  # from ssl-enum-ciphers
