"""Waivers, attestations, scoring on stored results, drift and interrupted runs (SQLite + PostgreSQL)."""

from __future__ import annotations

import hashlib
import socket
import subprocess
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from secops import db
from secops.compliance import drift, summary
from secops.compliance.attestations import add_attestation, valid_attestations
from secops.compliance.liveness import mark_interrupted
from secops.compliance.waivers import WaiverIndex, add_waiver, lint_waivers
from secops.errors import InputError, NotFoundError
from secops.i18n import set_language
from secops.models import Agency, AuditEvent, Host, System
from secops.models.compliance import Attestation, CheckResult, CheckRun, Waiver
from secops.store import ContentStore
from secops.timeutil import utcnow


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")


CHECKS = {"c_root", "c_pass", "c_perm"}


@dataclass(frozen=True)
class Req:
    id: str
    min_level: int
    checks: list[str] = field(default_factory=list)
    regime: str = "decree85"


@dataclass(frozen=True)
class MiniCatalog:
    requirements: dict[str, Req]
    checks: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(CHECKS))

    def scored_requirements(self, regime: str | None) -> list[Req]:
        return list(self.requirements.values())


CATALOG = MiniCatalog(
    {
        r.id: r
        for r in (
            Req("T-1", 1, ["c_pass"]),
            Req("T-2", 2, ["c_root"]),
            Req("T-3", 2, ["c_perm"]),
            Req("M-1", 2, []),
        )
    }
)


def seed(engine: Engine) -> None:
    """Agency, system S2 (approved level 2) with hosts web-1 and web-2, system S3 (proposed 3) with db-1."""
    with db.session_scope(engine) as s:
        agency = Agency(code="stttt", name="Sở TT&TT")
        s.add(agency)
        s.flush()
        s2 = System(code="S2", name="Cổng", owner_id=agency.id, proposed_level=3, approved_level=2)
        s3 = System(code="S3", name="CSDL", owner_id=agency.id, proposed_level=3)
        s.add_all([s2, s3])
        s.flush()
        s.add_all(
            [
                Host(name="web-1", address="127.0.0.11", system_id=s2.id),
                Host(name="web-2", address="127.0.0.12", system_id=s2.id),
                Host(name="db-1", address="127.0.0.13", system_id=s3.id),
            ]
        )


def ids(session: Session) -> dict[str, int]:
    out = {h.name: h.id for h in session.exec(select(Host))}
    out.update({s.code: s.id for s in session.exec(select(System))})
    return out  # type: ignore[return-value]


def add_run(
    engine: Engine,
    statuses: dict[tuple[str, str], str],
    *,
    waived: dict[tuple[str, str], int] | None = None,
    status: str = "completed",
) -> int:
    """A stored run with the given (host, check) → original status; ``waived`` maps keys to a waiver id."""
    waived = waived or {}
    with db.session_scope(engine) as s:
        known = ids(s)
        hosts = {h.name: h for h in s.exec(select(Host))}
        run = CheckRun(actor="t", status=status, hosts_total=len({h for h, _ in statuses}))
        s.add(run)
        s.flush()
        for (host, check), st in statuses.items():
            s.add(
                CheckResult(
                    run_id=run.id,
                    host_id=known[host],
                    host_name=host,
                    system_id=hosts[host].system_id,
                    check_id=check,
                    status="waived" if (host, check) in waived else st,
                    original_status=st,
                    severity="high",
                    requirements=[],
                    waiver_id=waived.get((host, check)),
                )
            )
        assert run.id is not None
        return run.id


def waiver(check: str, expires_in: timedelta, reason: str = "r", **scope: Any) -> Waiver:
    """A waiver row (``host_pattern=`` or ``system_id=``) that ends ``expires_in`` from now."""
    return Waiver(check_id=check, reason=reason, approver="a", expires_at=utcnow() + expires_in, actor="t", **scope)


def live_waiver(engine: Engine, check: str, host_pattern: str) -> int | None:
    """A waiver in force for one more day, written straight to the table; returns its id."""
    with db.session_scope(engine) as s:
        w = waiver(check, timedelta(days=1), host_pattern=host_pattern)
        s.add(w)
        s.flush()
        return w.id


def test_waiver_add_validates_audits_and_lints(engine: Engine) -> None:
    seed(engine)
    kw: dict[str, Any] = dict(
        check_id="c_root",
        host_pattern="web-*",
        system_code=None,
        reason="legacy app",
        approver="Giám đốc",
        expires="2099-12-31",
        known_checks=CHECKS,
    )
    with db.session_scope(engine) as s:
        w = add_waiver(s, "alice", **kw)
        assert w.expires_at.isoformat() == "2099-12-31T17:00:00+00:00"  # end of that day in Hanoi
    bad = [
        ({"check_id": "nope"}, InputError, "unknown check 'nope'"),
        ({"system_code": "S2"}, InputError, "exactly one scope"),
        ({"reason": "  "}, InputError, "needs a reason"),
        ({"expires": "2020-01-01"}, InputError, "already past"),
        ({"expires": "31/12/2099"}, InputError, "not a date"),
        ({"host_pattern": None, "system_code": "NOPE"}, NotFoundError, "no system 'NOPE'"),
    ]
    for change, exc, message in bad:
        with pytest.raises(exc, match=message), db.session_scope(engine) as s:
            add_waiver(s, "alice", **{**kw, **change})
    with db.session_scope(engine) as s:
        assert [e.action for e in s.exec(select(AuditEvent))] == ["waiver.create"]
        assert lint_waivers(s, CHECKS) == []
        s.add(waiver("c_perm", -timedelta(days=1), reason="", system_id=ids(s)["S2"]))
        s.add(waiver("gone", timedelta(days=1), host_pattern="db-1"))
    with Session(engine) as s:
        problems = [(p.waiver_id, p.check, p.problem) for p in lint_waivers(s, CHECKS)]
    assert problems == [
        (2, "c_perm", "expired"),
        (2, "c_perm", "missing_reason"),
        (3, "gone", "unknown_check"),
    ]


def test_waiver_matching_scope_status_and_expiry(engine: Engine) -> None:
    seed(engine)
    with db.session_scope(engine) as s:
        known = ids(s)
        s.add(waiver("c_root", timedelta(hours=1), host_pattern="web-?"))
        s.add(waiver("c_perm", timedelta(hours=1), system_id=known["S3"]))
        s.add(waiver("c_pass", -timedelta(seconds=1), host_pattern="*"))
    with Session(engine) as s:
        index = WaiverIndex.load(s)
        assert index.match("c_root", "web-1", known["S2"], "fail") is not None
        assert index.match("c_root", "web-1", known["S2"], "pass") is None  # nothing to waive
        assert index.match("c_root", "web-10", known["S2"], "fail") is None  # glob is exact
        assert index.match("c_perm", "db-1", known["S3"], "error") is not None
        assert index.match("c_perm", "web-1", known["S2"], "fail") is None
        assert index.match("c_pass", "web-1", known["S2"], "fail") is None  # expired: stops by itself
        later = WaiverIndex.load(s, utcnow() + timedelta(hours=2))
        assert later.match("c_root", "web-1", known["S2"], "fail") is None


def test_attestation_stores_hashed_evidence(engine: Engine, tmp_path: Path) -> None:
    seed(engine)
    evidence = tmp_path / "quy-che.pdf"
    evidence.write_bytes(b"%PDF-1.4 quy che an toan thong tin\n")
    store = ContentStore(tmp_path / "store")
    with db.session_scope(engine) as s:
        a = add_attestation(
            s,
            "bob",
            store,
            system_code="S2",
            requirement_id="M-1",
            status="met",
            evidence=evidence,
            expires="2099-01-31",
            known_requirements=CATALOG.requirements,
        )
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert (a.evidence_sha256, a.evidence_name, a.evidence_size) == (digest, "quy-che.pdf", 35)
    assert store.verify(digest)
    with pytest.raises(InputError, match="unknown requirement 'X-9'"), db.session_scope(engine) as s:
        add_attestation(
            s,
            "bob",
            store,
            system_code="S2",
            requirement_id="X-9",
            status="met",
            evidence=evidence,
            expires="2099-01-31",
            known_requirements=CATALOG.requirements,
        )
    with db.session_scope(engine) as s:
        known = ids(s)
        s.add(
            Attestation(
                system_id=known["S2"],
                requirement_id="M-1",
                status="not_met",
                evidence_sha256=digest,
                evidence_name="old",
                expires_at=utcnow() - timedelta(days=1),
                actor="t",
            )
        )
    with Session(engine) as s:
        valid = valid_attestations(s, known["S2"])
        assert {k: v.status for k, v in valid.items()} == {"M-1": "met"}  # the expired one does not count
        assert [e.action for e in s.exec(select(AuditEvent))] == ["attestation.create"]


def test_summary_scores_latest_run_per_host_with_live_waivers(engine: Engine) -> None:
    seed(engine)
    wid = live_waiver(engine, "c_root", "web-2")
    first = {
        ("web-1", "c_pass"): "fail",
        ("web-2", "c_pass"): "pass",
        ("web-1", "c_root"): "pass",
        ("web-2", "c_root"): "fail",
        ("web-1", "c_perm"): "pass",
        ("web-2", "c_perm"): "error",
        ("db-1", "c_pass"): "pass",
    }
    add_run(engine, first, waived={("web-2", "c_root"): wid})
    add_run(engine, {("web-1", "c_pass"): "pass", ("web-1", "c_root"): "pass", ("web-1", "c_perm"): "pass"})
    add_run(engine, {("web-1", "c_pass"): "fail"}, status="running")  # still running: ignored
    with Session(engine) as s:
        scores = {x.system: x for x in summary.score_systems(s, CATALOG)}
    s2 = scores["S2"].to_json()
    assert (s2["level"], s2["met"], s2["not_met"], s2["not_evaluated"]) == (2, 2, 0, 2)
    assert (s2["score"], s2["coverage"], s2["achieved_level"]) == (1.0, 0.5, 1)
    assert [(r["id"], r["status"]) for r in s2["gap_to_next_level"]["requirements"]] == [
        ("M-1", "not_evaluated"),
        ("T-3", "not_evaluated"),
    ]
    s3 = scores["S3"].to_json()
    assert (s3["level"], s3["met"], s3["not_met"], s3["not_evaluated"], s3["achieved_level"]) == (
        3,
        1,
        0,
        3,
        1,
    )
    # The waiver expires: the same stored results now count as a failure, without any new run.
    with db.session_scope(engine) as s:
        waiver = s.get(Waiver, wid)
        assert waiver is not None
        waiver.expires_at = utcnow() - timedelta(seconds=1)
        s.add(waiver)
    with Session(engine) as s:
        again = summary.score_systems(s, CATALOG, ["S2"])[0]
    assert (again.met, again.not_met, again.score) == (1, 1, 0.5)
    with Session(engine) as s, pytest.raises(NotFoundError):
        summary.score_systems(s, CATALOG, ["NOPE"])


def test_diff_sorts_every_change_into_one_bucket(engine: Engine) -> None:
    seed(engine)
    wid = live_waiver(engine, "c_perm", "db-1")
    a = add_run(
        engine,
        {
            ("web-1", "c_pass"): "pass",
            ("web-1", "c_root"): "fail",
            ("web-1", "c_perm"): "pass",
            ("web-2", "c_pass"): "skipped",
            ("db-1", "c_perm"): "fail",
            ("db-1", "c_root"): "fail",
        },
        waived={("db-1", "c_perm"): wid},
    )
    with db.session_scope(engine) as s:
        waiver = s.get(Waiver, wid)
        assert waiver is not None
        waiver.expires_at = utcnow() - timedelta(seconds=1)
        s.add(waiver)
    b = add_run(
        engine,
        {
            ("web-1", "c_pass"): "fail",
            ("web-1", "c_root"): "pass",
            ("web-1", "c_perm"): "error",
            ("web-2", "c_pass"): "fail",
            ("db-1", "c_perm"): "fail",
            ("db-1", "c_root"): "fail",
            ("web-2", "c_root"): "fail",
        },
    )
    with Session(engine) as s:
        out = drift.diff_runs(s, a, b)

    def keys(name: str) -> list[tuple[str, str]]:
        return [(e["host"], e["check"]) for e in out[name]]

    assert keys("regressed") == [("web-1", "c_pass")]
    assert keys("fixed") == [("web-1", "c_root")]
    assert keys("new_errors") == [("web-1", "c_perm")]
    assert keys("new_failures") == [("web-2", "c_pass"), ("web-2", "c_root")]
    assert keys("waivers_expired") == [("db-1", "c_perm")]
    assert out["waivers_expired"][0]["waiver_id"] == wid
    assert out["counts"] == {
        "new_failures": 2,
        "fixed": 1,
        "regressed": 1,
        "new_errors": 1,
        "waivers_expired": 1,
    }
    with Session(engine) as s, pytest.raises(NotFoundError, match="no check run 999"):
        drift.diff_runs(s, a, 999)


def test_runs_of_dead_processes_are_marked_interrupted(engine: Engine) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    with db.session_scope(engine) as s:
        s.add_all(
            [
                CheckRun(actor="t", pid=dead.pid, hostname=here),  # process gone
                CheckRun(actor="t", pid=__import__("os").getpid(), hostname=here),  # this process: alive
                CheckRun(actor="t", pid=1, hostname="elsewhere", heartbeat_at=utcnow() - timedelta(hours=2)),
                CheckRun(actor="t", pid=1, hostname="elsewhere"),  # fresh heartbeat elsewhere: left alone
                CheckRun(actor="t", status="completed", pid=dead.pid, hostname=here),
            ]
        )
    with db.session_scope(engine) as s:
        assert mark_interrupted(s, "tester") == [1, 3]
    with Session(engine) as s:
        got = [r.status for r in s.exec(select(CheckRun).order_by(CheckRun.id))]  # type: ignore[arg-type]
        assert got == ["interrupted", "running", "interrupted", "running", "completed"]
        actions = [e.action for e in s.exec(select(AuditEvent))]
        assert actions == ["check_run.interrupted", "check_run.interrupted"]
