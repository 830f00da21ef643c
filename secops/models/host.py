"""Host: a machine of a system, with how to reach it. Never a password: keys by path or agent."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field, SQLModel

from secops.models.base import JSONType


class Host(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    address: str = Field(index=True, max_length=64)
    system_id: int | None = Field(default=None, foreign_key="system.id", ondelete="RESTRICT")
    os: str | None = Field(default=None, max_length=32)
    zone: str | None = Field(default=None, max_length=64)
    transport: str = Field(default="ssh", max_length=16)  # ssh | local
    ssh_user: str | None = Field(default=None, max_length=64)
    ssh_port: int | None = None
    ssh_key: str | None = None
    known_hosts: str | None = None
    host_key: str | None = Field(default=None, max_length=128)  # pinned SHA256:… fingerprint
    sudo: bool = False
    services: list[Any] = Field(default_factory=list, sa_type=JSONType)  # declared listening ports
