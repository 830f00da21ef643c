"""Agency (cơ quan, đơn vị): owners and operators of systems. Names change with mergers, so they are data."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", ondelete="SET NULL")
