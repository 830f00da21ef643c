"""The incident demo on a fresh SQLite database: picks the system, works tasks, shows a verified chain."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from sqlmodel import Session, select

from secops import db
from secops.cli.app import App
from secops.config import load_settings
from secops.i18n import current_language, set_language
from secops.incidents import timeline
from secops.incidents.demo import run_demo
from secops.models import Agency, System
from secops.models.incident import Incident, IncidentTask


def _app(tmp_path: Path, systems: list[System]) -> App:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd", name="UBND tỉnh")
        s.add(agency)
        s.flush()
        for system in systems:
            system.owner_id = agency.id  # type: ignore[assignment]
            s.add(system)
    engine.dispose()
    return App(settings=load_settings(home=tmp_path, db_url=url, lang="en", actor="demo"))


def _run(app: App, lang: str = "en") -> str:
    buf = io.StringIO()
    before = current_language()
    set_language(lang)
    try:
        run_demo(app, Console(file=buf, width=140))
    finally:
        set_language(before)
        app.close()
    return buf.getvalue()


def test_demo_uses_dvc_portal(tmp_path: Path) -> None:
    app = _app(
        tmp_path,
        [
            System(code="a-first", name="A", owner_id=0, approved_level=3),
            System(code="dvc-portal", name="Cổng dịch vụ công", owner_id=0, approved_level=4),
        ],
    )
    out = _run(app)
    assert "Files encrypted on Cổng dịch vụ công" in out
    assert "Timeline verified: 12 events, chain intact" in out
    assert "Sent on time" in out and "Incident notification" in out
    with Session(app.engine()) as s:
        inc = s.exec(select(Incident)).one()
        done = s.exec(select(IncidentTask.step_id).where(IncidentTask.status == "done")).all()
        assert timeline.verify(s, inc) is None
    assert (inc.status, inc.category, inc.playbook_id) == ("containment", "ransomware", "ransomware")
    assert sorted(done) == ["confirm_encryption", "isolate_hosts", "scope_affected_hosts"]


def test_demo_falls_back_to_first_level_3_system_or_skips(tmp_path: Path) -> None:
    app = _app(
        tmp_path / "a",
        [
            System(code="b-low", name="Low", owner_id=0, proposed_level=2),
            System(code="c-mid", name="Mid", owner_id=0, proposed_level=3),
        ],
    )
    out = _run(app, "vi")
    assert "Dữ liệu bị mã hóa trên Mid" in out and "Thông báo sự cố" in out and "Đã gửi đúng hạn" in out
    assert "Đã kiểm tra dòng thời gian: 12 sự kiện, chuỗi băm toàn vẹn" in out
    lonely = _app(tmp_path / "b", [System(code="b-low", name="Low", owner_id=0, proposed_level=2)])
    assert "the incident demo is skipped" in _run(lonely)
