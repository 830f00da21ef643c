"""Shared set-up for the incident tests: agencies and systems created directly with the models."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from secops import db
from secops.models import Agency, System


def seed_systems(engine: Engine) -> None:
    """Three systems: dvc-portal (approved level 4), email (proposed 3), intranet (no level yet)."""
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd-tinh", name="Ủy ban nhân dân tỉnh")
        s.add(agency)
        s.flush()
        assert agency.id is not None
        s.add(
            System(
                code="dvc-portal",
                name="Cổng dịch vụ công tỉnh",
                owner_id=agency.id,
                approved_level=4,
                proposed_level=3,
            )
        )
        s.add(System(code="email", name="Hệ thống thư điện tử", owner_id=agency.id, proposed_level=3))
        s.add(System(code="intranet", name="Mạng nội bộ", owner_id=agency.id))
