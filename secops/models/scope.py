"""Scope: a network that nmap may touch. Nothing outside a declared scope is ever scanned."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Scope(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    cidr: str = Field(max_length=64)
    zone: str | None = Field(default=None, max_length=64)
    owner: str | None = Field(default=None, max_length=64)
