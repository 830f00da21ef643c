"""A real scheduler process: runs on time, one per database, survives kill -9, stops gracefully, records
missed and interrupted runs, and shares SQLite with CLI writers without "database is locked"."""

from __future__ import annotations

import itertools
import json
import pickle
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from secops import db
from secops.models import Scope
from secops.models.schedule import apscheduler_jobs
from tests.conftest import Cli
from tests.integration.scheduler_helpers import Daemon, history, secops_argv, wait_for


@pytest.fixture
def sqlite_run(tmp_path: Path) -> Cli:
    """For the tests where only SQLite matters (locking, timing)."""
    home = tmp_path / "home"
    home.mkdir()
    return Cli(f"sqlite:///{tmp_path / 'secops.db'}", home)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _successes(run: Cli, name: str) -> list[dict[str, object]]:
    return [h for h in history(run, name) if h["status"] == "success"]


def test_runs_on_time_refuses_a_second_scheduler_and_survives_kill9(run: Cli, db_url: str, tmp_path: Path) -> None:
    assert run("schedule", "add", "tick", "--job", "deadline-sweep", "--every", "1s").exit_code == 0
    first = Daemon(db_url, run.home, tmp_path / "d1.log")
    try:
        first.wait_started()
        wait_for(lambda: len(_successes(run, "tick")) >= 2, 30, "two runs")
        # A second scheduler on the same database refuses to start (exit 2, with the holder named).
        second = run("scheduler", "run")
        assert second.exit_code == 2
        assert "error: another scheduler is already running on this database (process" in second.output
        assert f"process {first.proc.pid} on" in second.output
    finally:
        first.kill9()
    before = history(run, "tick")
    restarted = Daemon(db_url, run.home, tmp_path / "d2.log")
    try:
        restarted.wait_started()
        wait_for(lambda: len(_successes(run, "tick")) >= len(before) + 2, 30, "two runs after restart")
    finally:
        assert restarted.terminate() == 0
    rows = history(run, "tick")
    fires = [_t(r["scheduled_for"]) for r in rows]
    # Nothing duplicated: each fire time once; nothing left running; nothing failed.
    assert len(fires) == len(set(fires))
    assert {r["status"] for r in rows} <= {"success", "interrupted"}
    assert [r["scheduled_for"] for r in rows[: len(before)]] == [r["scheduled_for"] for r in before]
    assert all(r["status"] != "running" for r in rows)
    # On time: one second apart, started within a second of the fire time.
    for i, row in enumerate(rows):
        late = _t(row["started"]) - _t(row["scheduled_for"])
        assert timedelta(0) <= late < timedelta(seconds=2 if i == len(before) else 1), row
    spacing = {round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(fires)}
    assert min(spacing) == 1.0 and all(s == int(s) for s in spacing)
    # Nothing lost: the runs missed while down were coalesced into the first run after the restart.
    after_restart = fires[len(before) :]
    assert after_restart and after_restart[0] > fires[len(before) - 1]
    assert run("scheduler", "status", "--format", "json").output.strip() == "null"


FAKE_NMAP = """#!/bin/sh
if [ "$1" = "-V" ]; then echo "Nmap version 7.94 ( https://nmap.org )"; exit 0; fi
exec sleep 30
"""


def _slow_scan_schedule(run: Cli, db_url: str, tmp_path: Path) -> dict[str, str]:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with Session(engine) as session:
        session.add(Scope(name="lo", cidr="127.0.0.1/32"))
        session.commit()
    engine.dispose()
    nmap = tmp_path / "fake-nmap"
    nmap.write_text(FAKE_NMAP)
    nmap.chmod(0o755)
    result = run("schedule", "add", "slow", "--job", "net-scan", "--target", "lo", "--every", "1s")
    assert result.exit_code == 0, result.output
    return {"SECOPS_NMAP": str(nmap)}


def test_kill9_mid_job_is_interrupted_at_restart_and_sigterm_stops_cleanly(
    run: Cli, db_url: str, tmp_path: Path
) -> None:
    env = _slow_scan_schedule(run, db_url, tmp_path)
    first = Daemon(db_url, run.home, tmp_path / "d1.log", env=env)
    try:
        first.wait_started()
        wait_for(lambda: any(r["status"] == "running" for r in history(run, "slow")), 20, "a running scan")
        # While it runs, the next fire times are skipped (max one instance) and recorded as missed.
        wait_for(lambda: any(r["status"] == "missed" for r in history(run, "slow")), 10, "a missed run")
    finally:
        first.kill9()
    assert [r["status"] for r in history(run, "slow")].count("running") == 1
    assert run("schedule", "pause", "slow").exit_code == 0
    second = Daemon(db_url, run.home, tmp_path / "d2.log", "--stop-timeout", "1", env=env)
    second.wait_started()
    rows = history(run, "slow")
    interrupted = [r for r in rows if r["status"] == "interrupted"]
    assert len(interrupted) == 1 and interrupted[0]["error"] == "the process running it stopped before it finished"
    missed = [r for r in rows if r["status"] == "missed"]
    assert missed and all(r["error"] == "the previous run was still running" for r in missed)
    # Graceful stop with a job in flight: SIGTERM waits --stop-timeout, then marks it interrupted.
    assert run("schedule", "resume", "slow").exit_code == 0
    wait_for(lambda: [r["status"] for r in history(run, "slow")].count("running") == 1, 20, "a new run")
    started = time.monotonic()
    assert second.terminate() == 0
    assert time.monotonic() - started < 10
    statuses = [r["status"] for r in history(run, "slow")]
    assert "running" not in statuses and statuses.count("interrupted") == 2
    assert "stop timeout: 1 running execution(s) marked interrupted" in (tmp_path / "d2.log").read_text()


def _move_next_run(db_url: str, when: datetime) -> None:
    """Pretend the scheduler was down at ``when``: set the stored job's next run time (state and column)."""
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        ((job_id, state_blob),) = conn.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.job_state)).all()
        state = pickle.loads(state_blob)
        state["next_run_time"] = when
        conn.execute(
            update(apscheduler_jobs)
            .where(apscheduler_jobs.c.id == job_id)
            .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL), next_run_time=when.timestamp())
        )
    engine.dispose()


def test_missed_run_is_recorded_when_down_past_the_grace_time(sqlite_run: Cli, tmp_path: Path) -> None:
    run, db_url = sqlite_run, sqlite_run.db_url
    assert run("schedule", "add", "hourly", "--job", "deadline-sweep", "--every", "1h").exit_code == 0
    first = Daemon(db_url, run.home, tmp_path / "d1.log", "--misfire-grace", "5")
    first.wait_started()
    assert first.terminate() == 0
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    _move_next_run(db_url, due)  # the fire time passed a minute ago, while no scheduler ran
    second = Daemon(db_url, run.home, tmp_path / "d2.log", "--misfire-grace", "5")
    try:
        wait_for(lambda: history(run, "hourly"), 30, "the missed run")
    finally:
        assert second.terminate() == 0
    rows = history(run, "hourly")
    assert [(r["status"], _t(r["scheduled_for"]), r["error"]) for r in rows] == [
        ("missed", due, "the scheduler was not running at the time (missed by more than 5 s)")
    ]
    listed = json.loads(run("schedule", "list", "--format", "json").output)
    assert _t(listed[0]["next_run"]) == due + timedelta(hours=1)  # coalesced: the timetable goes on


def test_scheduler_and_cli_write_at_once_on_sqlite(sqlite_run: Cli, tmp_path: Path) -> None:
    run, db_url = sqlite_run, sqlite_run.db_url
    for name in ("a", "b", "c"):
        assert run("schedule", "add", name, "--job", "deadline-sweep", "--every", "1s").exit_code == 0
    daemon = Daemon(db_url, run.home, tmp_path / "d.log")
    try:
        daemon.wait_started()
        writers = [
            subprocess.Popen(
                secops_argv(db_url, run.home, "schedule", "add", f"w{i}", "--job", "deadline-sweep", "--every", "1h"),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for i in range(4)
        ]
        for _round in range(5):  # in-process writers at the same time: pause/resume/run-now
            for args in (("schedule", "pause", "a"), ("schedule", "resume", "a"), ("schedule", "run-now", "b")):
                result = run(*args)
                assert result.exit_code == 0, result.output
        outputs = [w.communicate(timeout=60)[0].decode() for w in writers]
        assert [w.returncode for w in writers] == [0] * 4, outputs
        wait_for(lambda: len(_successes(run, "c")) >= 3, 30, "scheduled runs")
    finally:
        assert daemon.terminate() == 0
    log = (tmp_path / "d.log").read_text()
    assert "locked" not in log and "Traceback" not in log
    for name in ("a", "b", "c"):
        assert all(r["status"] in ("success", "missed") for r in history(run, name)), name
    assert len([r for r in history(run, "b") if r["trigger"] == "manual"]) == 5
