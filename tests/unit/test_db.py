"""Storage foundation: migrations, SQLite pragmas, UTC round-trip, audit events, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from secops import audit, db
from secops.models import Agency, AuditEvent


def test_migrations_reach_every_head_and_are_idempotent(engine: Engine) -> None:
    assert db.is_current(engine)
    db.upgrade(engine)  # second run is a no-op
    with engine.connect() as conn:
        tables = {"agency", "system", "host", "scope", "audit_event", "system_component"}
        for table in tables:
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_sqlite_pragmas(tmp_path) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == db.BUSY_TIMEOUT_MS


def test_audit_event_round_trips_aware_utc(engine: Engine) -> None:
    at = datetime(2026, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=7)))
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd-tinh", name="Ủy ban nhân dân tỉnh")
        s.add(agency)
        ev = audit.record(s, "alice", "agency.create", "agency", "ubnd-tinh", after={"name": agency.name})
        ev.at = at
    with Session(engine) as s:
        got = s.exec(select(AuditEvent)).one()
        assert got.at == at and got.at.tzinfo is not None
        assert got.at.astimezone(UTC).hour == 16
        assert got.after == {"name": "Ủy ban nhân dân tỉnh"}


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    try:
        with db.session_scope(engine) as s:
            s.add(Agency(code="a", name="A"))
            s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with Session(engine) as s:
        assert s.exec(select(Agency)).all() == []
