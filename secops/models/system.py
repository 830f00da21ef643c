"""Information system (hệ thống thông tin): Decree 85 classification inputs, proposed and approved level."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Field, SQLModel

from secops.models.base import JSONType

# The classification inputs of Decree 85 Art. 6–11, in the order forms and exports show them.
CLASSIFICATION_INPUTS = (
    "function",
    "information",
    "online_public_service_level",
    "conditional_business_service",
    "personal_data_users",
    "infrastructure_scope",
    "ics_construction_grade",
    "state_secret_harm",
    "national_egov_24x7",
    "national_critical_data",
    "designated_level_5",
)


class SystemComponent(SQLModel, table=True):
    """``parent`` is made of ``child`` (Art. 5.2: a system takes the highest level of its components)."""

    __tablename__ = "system_component"
    parent_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    child_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="RESTRICT")


class System(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    description: str | None = None
    owner_id: int = Field(foreign_key="agency.id", ondelete="RESTRICT")
    operator_id: int | None = Field(default=None, foreign_key="agency.id", ondelete="RESTRICT")

    # Classification inputs (Decree 85 Art. 6–11); None means "not recorded".
    function: str | None = Field(default=None, max_length=32)
    information: list[str] = Field(default_factory=list, sa_type=JSONType)
    online_public_service_level: int | None = None
    conditional_business_service: bool | None = None
    personal_data_users: int | None = None
    infrastructure_scope: str | None = Field(default=None, max_length=32)
    ics_construction_grade: str | None = Field(default=None, max_length=16)
    state_secret_harm: str | None = Field(default=None, max_length=32)
    national_egov_24x7: bool | None = None
    national_critical_data: bool | None = None
    designated_level_5: bool | None = None

    # Level engine output and the approval record.
    regime: str = Field(default="decree85", max_length=32)
    proposed_level: int | None = None
    proposed_status: str | None = Field(default=None, max_length=16)  # proposed | undetermined
    proposed_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    proposed_missing: list[str] = Field(default_factory=list, sa_type=JSONType)
    approved_level: int | None = None
    decision_ref: str | None = Field(default=None, max_length=120)
    decision_date: date | None = None
    approver: str | None = Field(default=None, max_length=200)
    approval_reason: str | None = None

    # Dossier items (Art. 15) recorded as present: {item_id: reference or true}.
    dossier: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)

    @property
    def effective_level(self) -> int | None:
        """The approved level where there is one, else the proposed one (scoring and scheduling use this)."""
        return self.approved_level if self.approved_level is not None else self.proposed_level
