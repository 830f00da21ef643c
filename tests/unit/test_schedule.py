"""Schedules without a daemon: parsing, the default timetable, inspection dates, notification config."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from secops import db
from secops.errors import ConfigError, InputError
from secops.models import Agency, Host, Scope, System
from secops.scheduler import defaults, notify
from secops.scheduler.jobs import next_inspection
from secops.scheduler.triggers import _weekdays, cron_trigger, describe, next_fire, parse_every
from tests.conftest import Cli


def test_every_parses_units() -> None:
    assert [parse_every(t) for t in ("1s", "15m", "6h", "7d", " 2h ")] == [1, 900, 21600, 604800, 7200]
    for bad in ("0s", "6x", "h", "-1h", "1.5h", ""):
        with pytest.raises(InputError, match="--every"):
            parse_every(bad)


def test_describe_and_cron() -> None:
    assert describe(None, 21600) == "every 6h"
    assert describe(None, 90) == "every 90s"
    assert describe(None, 3 * 86400) == "every 3d"
    assert describe("0 2 * * 1", None) == "cron 0 2 * * 1"
    with pytest.raises(InputError, match="--cron '0 2 \\* \\*'"):
        cron_trigger("0 2 * *")
    # Cron runs in local time (UTC+7): Monday 02:00 in Hanoi is Sunday 19:00 UTC.
    now = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # a Friday
    fire = next_fire("0 2 * * 1", None, now, now, "Asia/Ho_Chi_Minh")
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    fire = next_fire("30 8 * * 0", None, now, now, "Asia/Ho_Chi_Minh")
    assert fire is not None and fire.strftime("%a %H:%M") == "Sun 08:30"


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-0", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
        ("*", "*"),
    ],
)
def test_crontab_weekdays_count_from_sunday(field: str, days: str) -> None:
    assert _weekdays(field) == days


def test_next_inspection_and_reminder_months() -> None:
    assert next_inspection(date(2025, 8, 14), 12, date(2026, 11, 27)) == date(2027, 8, 14)
    assert next_inspection(date(2025, 8, 14), 6, date(2026, 11, 27)) == date(2027, 2, 14)
    assert next_inspection(date(2025, 1, 31), 12, date(2025, 12, 1)) == date(2026, 1, 28)
    assert defaults.reminder_cron(date(2025, 8, 14), 12) == "0 8 1 7 *"
    assert defaults.reminder_cron(date(2025, 8, 14), 6) == "0 8 1 1,7 *"
    assert defaults.reminder_cron(date(2025, 1, 5), 12) == "0 8 1 12 *"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    db.upgrade(engine)
    return engine


def _inventory(engine: Engine) -> None:
    with db.session_scope(engine) as session:
        agency = Agency(code="stttt", name="Sở TT&TT")
        session.add(agency)
        session.flush()
        for level in (1, 2, 3, 4, 5):
            system = System(
                code=f"sys{level}",
                name=f"System {level}",
                owner_id=agency.id or 0,
                approved_level=level,
                decision_date=date(2025, 8, 14),
            )
            session.add(system)
            session.flush()
            session.add(Host(name=f"h{level}", address=f"127.0.0.{level}", system_id=system.id))
        session.add(System(code="nolevel", name="Unclassified", owner_id=agency.id or 0))
        session.add(System(code="nohosts", name="No hosts", owner_id=agency.id or 0, proposed_level=2))
        session.add(Scope(name="lan", cidr="127.0.0.0/24"))


def test_defaults_follow_levels_and_are_idempotent(sqlite_engine: Engine) -> None:
    _inventory(sqlite_engine)
    today = date(2026, 11, 27)
    with db.session_scope(sqlite_engine) as session:
        first = defaults.apply(session, "tester", "Asia/Ho_Chi_Minh", today)
    made = {r["name"]: (r["job"], r["target"], r["schedule"], r["action"]) for r in first if r["name"]}
    assert made == {
        "check-sys1": ("check-run", "sys1", "cron 0 1 1 * *", "created"),
        "check-sys2": ("check-run", "sys2", "every 14d", "created"),
        "check-sys3": ("check-run", "sys3", "cron 0 1 * * 1", "created"),
        "check-sys4": ("check-run", "sys4", "every 3d", "created"),
        "check-sys5": ("check-run", "sys5", "cron 0 1 * * *", "created"),
        "inspection-sys3": ("inspection-reminder", "sys3", "cron 0 8 1 7 *", "created"),
        "inspection-sys4": ("inspection-reminder", "sys4", "cron 0 8 1 7 *", "created"),
        "inspection-sys5": ("inspection-reminder", "sys5", "cron 0 8 1 1,7 *", "created"),
        "discover-lan": ("net-scan", "lan", "cron 0 3 * * 0", "created"),
        "deadline-sweep": ("deadline-sweep", "", "every 1h", "created"),
    }
    assert {(r["target"], r["why"]) for r in first if r["action"] == "skipped"} == {
        ("nolevel", "no level yet"),
        ("nohosts", "no hosts to check"),
    }
    with db.session_scope(sqlite_engine) as session:
        second = defaults.apply(session, "tester", "Asia/Ho_Chi_Minh", today)
    assert {r["action"] for r in second if r["name"]} == {"unchanged"}
    # A level change updates that system's entry only.
    with db.session_scope(sqlite_engine) as session:
        from sqlmodel import select

        sys2 = session.exec(select(System).where(System.code == "sys2")).one()
        sys2.approved_level = 5
        session.add(sys2)
    with db.session_scope(sqlite_engine) as session:
        third = defaults.apply(session, "tester", "Asia/Ho_Chi_Minh", today)
    changed = {r["name"]: r["action"] for r in third if r["action"] in ("updated", "created")}
    assert changed == {"check-sys2": "updated", "inspection-sys2": "created"}


def test_notify_config_is_validated() -> None:
    config = notify.load_config(
        {
            "smtp": {"host": "127.0.0.1", "port": 2525, "from": "a@b.vn", "to": ["c@d.vn"]},
            "webhook": {"url": "http://127.0.0.1:9/x", "timeout": 2},
        }
    )
    assert config.smtp is not None and config.smtp.sender == "a@b.vn" and config.smtp.starttls is False
    with pytest.raises(ConfigError, match=r"\[notify\] webhook.url"):
        notify.load_config({"webhook": {"url": "file:///etc/passwd"}})
    with pytest.raises(ConfigError, match=r"\[notify\] smtp.password"):
        notify.load_config({"smtp": {"host": "x", "from": "a", "to": ["b"], "password": "secret"}})


def test_schedule_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    run = Cli(f"sqlite:///{tmp_path / 'cli.db'}", home)
    assert run("schedule", "add", "sweep", "--job", "deadline-sweep", "--every", "6h").exit_code == 0
    dup = run("schedule", "add", "sweep", "--job", "deadline-sweep", "--every", "6h")
    assert dup.exit_code == 2 and "already exists" in dup.output
    both = run("schedule", "add", "x", "--job", "deadline-sweep", "--every", "6h", "--cron", "0 2 * * 1")
    assert both.exit_code == 2 and "exactly one of --cron or --every" in both.output
    missing = run("schedule", "add", "x", "--job", "check-run", "--target", "nope", "--every", "1d")
    assert missing.exit_code == 2 and "no system 'nope'" in missing.output
    assert run("schedule", "pause", "sweep").exit_code == 0
    listed = json.loads(run("schedule", "list", "--format", "json").output)
    assert [(r["name"], r["schedule"], r["paused"], r["next_run"]) for r in listed] == [
        ("sweep", "every 6h", True, None)
    ]
    assert run("schedule", "resume", "sweep").exit_code == 0
    now = run("schedule", "run-now", "sweep", "--format", "json")
    assert now.exit_code == 0, now.output
    assert json.loads(now.output)["result"] == {"deadlines": 0}
    history = json.loads(run("schedule", "history", "sweep", "--format", "json").output)
    assert len(history) == 1 and set(history[0]) == {"started", "finished", "status", "error"}
    assert history[0]["status"] == "success" and history[0]["error"] is None
    assert run("schedule", "remove", "sweep").exit_code == 0
    assert json.loads(run("schedule", "history", "sweep", "--format", "json").output)[0]["status"] == "success"
    gone = run("schedule", "pause", "sweep")
    assert gone.exit_code == 2 and "no schedule named sweep" in gone.output


def test_demo_shows_the_default_timetable(sqlite_engine: Engine, tmp_path: Path) -> None:
    from dataclasses import replace

    from rich.console import Console

    from secops.cli.app import App
    from secops.config import load_settings
    from secops.i18n import set_language
    from secops.scheduler.demo import run_demo

    _inventory(sqlite_engine)
    url = str(sqlite_engine.url)
    sqlite_engine.dispose()
    set_language("en")
    app = App(settings=replace(load_settings(home=tmp_path / "home", db_url=url, lang="en")))
    console = Console(record=True, width=200)
    run_demo(app, console)
    app.close()
    text = console.export_text()
    row = next(line for line in text.splitlines() if "check-sys5" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "check-sys5",
        "check-run",
        "sys5",
        "cron 0 1 * * *",
        "level 5",
    ]
    assert "inspection-sys5" in text and "cron 0 8 1 1,7 *" in text and "every 1h" in text
    assert "not scheduled: nolevel: no level yet" in text
    with db.session_scope(db.make_engine(url)) as session:
        from sqlmodel import select

        from secops.models.schedule import Schedule

        assert session.exec(select(Schedule)).first() is None  # the demo only shows


def test_report_job_writes_the_levels_report(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    run = Cli(f"sqlite:///{tmp_path / 'rep.db'}", home)
    bad = run("schedule", "add", "rep", "--job", "report", "--target", "docx", "--every", "7d")
    assert bad.exit_code == 2 and "--target is the report format" in bad.output
    assert run("schedule", "add", "rep", "--job", "report", "--target", "json", "--every", "7d").exit_code == 0
    result = run("schedule", "run-now", "rep", "--format", "json")
    assert result.exit_code == 0, result.output
    path = Path(json.loads(result.output)["result"]["report"])
    assert path.parent == home / "reports" and path.suffix == ".json"
    assert json.loads(path.read_text())["report"] == "levels"


def test_inspection_reminder_job_reports_the_next_due_date(sqlite_engine: Engine, tmp_path: Path) -> None:
    from secops.timeutil import local, utcnow

    _inventory(sqlite_engine)
    url = str(sqlite_engine.url)
    sqlite_engine.dispose()
    home = tmp_path / "home"
    home.mkdir()
    run = Cli(url, home)
    for code in ("sys5", "sys2"):
        added = run(
            "schedule", "add", f"i-{code}", "--job", "inspection-reminder", "--target", code, "--cron", "0 8 1 1,7 *"
        )
        assert added.exit_code == 0, added.output
    today = local(utcnow()).date()
    five = json.loads(run("schedule", "run-now", "i-sys5", "--format", "json").output)["result"]
    assert five == {
        "system": "sys5",
        "level": 5,
        "inspection_due": next_inspection(date(2025, 8, 14), 6, today).isoformat(),
    }
    two = json.loads(run("schedule", "run-now", "i-sys2", "--format", "json").output)["result"]
    assert two == {"system": "sys2", "level": 2, "inspection_due": None}  # no periodic duty below level 3


def test_every_scheduler_message_has_vietnamese_with_its_placeholders() -> None:
    import ast
    import re

    from secops.i18n import _catalog

    root = Path(__file__).resolve().parents[2]
    wanted = set()
    for path in [*sorted((root / "secops/scheduler").glob("*.py")), root / "secops/cli/schedule.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    wanted.add(arg.value)
    catalog = _catalog("vi")
    assert sorted(wanted - set(catalog)) == []
    for msgid in wanted:
        assert set(re.findall(r"\{\w+", msgid)) == set(re.findall(r"\{\w+", catalog[msgid])), msgid
