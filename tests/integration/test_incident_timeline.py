"""The hash-chained timeline on SQLite and PostgreSQL: tampering in SQL is caught and named, and two
processes appending to one incident at the same time never break the chain."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from secops import db
from secops.incidents import lifecycle, timeline
from secops.models import AuditEvent
from secops.models.incident import Incident, TimelineEvent
from secops.timeutil import utcnow
from tests.conftest import Cli
from tests.integration.incident_helpers import seed_systems

ROOT = Path(__file__).resolve().parents[2]


def _open_with_notes(engine: Engine, notes: int = 4) -> str:
    seed_systems(engine)
    with db.session_scope(engine) as s:
        inc = lifecycle.open_incident(
            s,
            "alice",
            title="Web defaced",
            systems=["dvc-portal"],
            category="defacement",
            detected_at=utcnow() - timedelta(hours=1),
            detected_by="notified",
        )
        code = inc.code
    for i in range(notes):
        with db.session_scope(engine) as s:
            lifecycle.add_note(s, "bob", code, f"note {i + 2}")
    return code


def _verify(engine: Engine, code: str) -> timeline.Break | None:
    with Session(engine) as s:
        return timeline.verify(s, timeline.get_incident(s, code))


def test_hash_is_sha256_of_canonical_json(engine: Engine) -> None:
    code = _open_with_notes(engine, notes=1)
    with Session(engine) as s:
        first, second = timeline.events(s, timeline.get_incident(s, code))
    content = {
        "incident": code,
        "seq": 2,
        "at": second.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": "bob",
        "kind": "note",
        "data": {"text": "note 2"},
        "prev_hash": first.hash,
    }
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert second.hash == hashlib.sha256(raw).hexdigest()
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    assert _verify(engine, code) is None
    with Session(engine) as s:  # every change is audited too
        actions = [a.action for a in s.exec(select(AuditEvent).order_by(AuditEvent.id))]  # type: ignore[arg-type]
    assert actions == ["incident.opened", "incident.note"]


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        ("UPDATE timeline_event SET actor = 'mallory' WHERE seq = 3", 3, "the event was altered"),
        (
            'UPDATE timeline_event SET data = \'{"text": "nothing happened"}\' WHERE seq = 2',
            2,
            "the event was altered",
        ),
        ("UPDATE timeline_event SET at = at - interval '1 hour' WHERE seq = 4", 4, "the event was altered"),
        ("DELETE FROM timeline_event WHERE seq = 3", 3, "expected seq 3, found 4"),
        ("DELETE FROM timeline_event WHERE seq = 5", 5, "the last events were deleted"),
        (
            "UPDATE timeline_event SET seq = -seq WHERE seq IN (2, 3);"
            "UPDATE timeline_event SET seq = 3 WHERE seq = -2;"
            "UPDATE timeline_event SET seq = 2 WHERE seq = -3",
            2,
            "prev_hash does not match",
        ),
    ],
)
def test_tampering_in_sql_is_detected(
    engine: Engine, db_url: str, tmp_path: Path, tamper: str, seq: int, reason: str
) -> None:
    code = _open_with_notes(engine)
    if engine.dialect.name == "sqlite":
        tamper = tamper.replace("at - interval '1 hour'", "datetime(at, '-1 hour')")
    with engine.begin() as conn:
        for stmt in tamper.split(";"):
            conn.execute(text(stmt))
    broken = _verify(engine, code)
    assert broken is not None and broken.seq == seq and reason in broken.reason
    if seq != 3:
        return  # the CLI's report and exit code are checked on the two seq-3 cases (altered, deleted)
    home = tmp_path / "home"
    home.mkdir()
    result = Cli(db_url, home)("incident", "verify")
    assert result.exit_code == 1
    assert f"error: {code}: chain broken at event seq {seq}: " in result.stderr
    one = Cli(db_url, home)("incident", "verify", code, "--format", "json")
    assert one.exit_code == 1
    assert json.loads(one.stdout)[0]["broken_seq"] == seq


def test_verify_passes_on_an_intact_chain(engine: Engine, db_url: str, tmp_path: Path) -> None:
    code = _open_with_notes(engine, notes=2)
    home = tmp_path / "home"
    home.mkdir()
    result = Cli(db_url, home)("incident", "verify", "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"code": code, "events": 3, "ok": True, "broken_seq": None, "reason": None}
    ]


WRITER = """
import sys, time
from pathlib import Path
from secops import db
from secops.incidents import lifecycle
url, code, name, count, go = sys.argv[1:6]
engine = db.make_engine(url)
Path(go + "." + name).touch()
while not Path(go).exists():
    time.sleep(0.005)
for i in range(int(count)):
    with db.session_scope(engine) as s:
        lifecycle.add_note(s, name, code, f"{name} {i}")
"""


def test_two_processes_appending_at_once_keep_the_chain(engine: Engine, db_url: str, tmp_path: Path) -> None:
    code = _open_with_notes(engine, notes=0)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    count = 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, code, name, str(count), str(go)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for name in ("alice", "bob")
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{name}").exists() for name in ("alice", "bob")) and time.monotonic() < deadline:
        time.sleep(0.01)  # both are imported and waiting
    go.touch()
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert _verify(engine, code) is None
    with Session(engine) as s:
        inc = s.exec(select(Incident).where(Incident.code == code)).one()
        rows = list(s.exec(select(TimelineEvent).where(TimelineEvent.incident_id == inc.id)))
    assert inc.chain_length == 1 + 2 * count
    assert sorted(r.seq for r in rows) == list(range(1, 2 * count + 2))
    actors = [r.actor for r in sorted(rows, key=lambda r: r.seq)][1:]
    assert actors.count("alice") == count and actors.count("bob") == count
    assert any(a != b for a, b in itertools.pairwise(actors))  # they really interleaved
