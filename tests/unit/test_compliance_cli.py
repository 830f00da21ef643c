"""The compliance CLI on stored data: waiver, attest, rescore, summary, diff (both databases)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from secops import db
from secops.collect.bundle import RawFact
from secops.compliance import runs
from secops.compliance.waivers import WaiverIndex
from secops.models import Agency, AuditEvent, Host, System
from secops.models.compliance import Waiver
from secops.timeutil import utcnow
from tests.conftest import Cli
from tests.unit.test_compliance_rescore import CATALOG_FILES


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    for rel, text in CATALOG_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def cli(run: Cli, catalog_dir: Path) -> Cli:
    """The CLI with the test catalog, on a database holding system T1 (level 2) with hosts h1 and h2."""
    engine = db.make_engine(run.db_url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd", name="UBND tỉnh")
        s.add(agency)
        s.flush()
        system = System(
            code="T1", name="Hệ thống thử", owner_id=agency.id, regime="tstregime", approved_level=2
        )
        s.add(system)
        s.flush()
        s.add_all(
            [
                Host(name="h1", address="127.0.0.21", system_id=system.id),
                Host(name="h2", address="127.0.0.22", system_id=system.id),
            ]
        )
    engine.dispose()

    def call(*args: str, **kw: str) -> object:
        return run("--catalog", str(catalog_dir), *args, **kw)

    call.db_url = run.db_url  # type: ignore[attr-defined]
    call.home = run.home  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


def stored_run(db_url: str, catalog_dir: Path, root_login: str) -> int:
    """A completed run as ``check run`` would store it, without any host (facts given here)."""
    from secops.catalog import load_catalog

    catalog = load_catalog(extra_dirs=(catalog_dir,))
    engine = db.make_engine(db_url)
    run_id = runs.start_run(engine, "tester", kind="collect", selection={"all": True}, hosts_total=2)
    with Session(engine) as s:
        contexts = {h.name: runs.host_context(s, h) for h in s.exec(select(Host))}
        waivers = WaiverIndex.load(s)
    for name in ("h1", "h2"):
        raw = {
            "tst_sshd": RawFact(rc=0, stdout=f"permitrootlogin {root_login}\n"),
            "tst_marker": RawFact(rc=0, stdout="ok\n"),
        }
        runs.store_host(
            engine, run_id, catalog, contexts[name], waivers, transport="ssh", raw=raw, error=None
        )
    runs.finish_run(engine, run_id, "tester")
    engine.dispose()
    return run_id


def test_waiver_commands(cli: Cli) -> None:
    ok = cli(
        "waiver",
        "add",
        "--check",
        "tst_root_login",
        "--host",
        "h*",
        "--reason",
        "ứng dụng cũ",
        "--approver",
        "Giám đốc Sở",
        "--expires",
        "2099-06-30",
        "--format",
        "json",
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["id"] == 1
    bad = cli(
        "waiver",
        "add",
        "--check",
        "nope",
        "--system",
        "T1",
        "--reason",
        "r",
        "--approver",
        "a",
        "--expires",
        "2099-06-30",
    )
    assert (bad.exit_code, bad.output) == (2, "error: unknown check 'nope' (see `secops check list`)\n")
    listed = json.loads(cli("waiver", "list", "--format", "json").output)
    assert [(w["check"], w["host"], w["state"], w["approver"]) for w in listed] == [
        ("tst_root_login", "h*", "active", "Giám đốc Sở")
    ]
    clean = cli("waiver", "lint")
    assert (clean.exit_code, clean.output) == (0, "No waiver problems.\n")
    engine = db.make_engine(cli.db_url)  # type: ignore[attr-defined]
    with db.session_scope(engine) as s:
        s.add(
            Waiver(
                check_id="tst_marker_ok",
                host_pattern="h2",
                reason=" ",
                approver="a",
                expires_at=utcnow() - timedelta(days=2),
                actor="t",
            )
        )
        assert [e.action for e in s.exec(select(AuditEvent))] == ["waiver.create"]
    engine.dispose()
    lint = cli("waiver", "lint", "--format", "json")
    assert lint.exit_code == 1
    assert [(p["waiver"], p["problem"]) for p in json.loads(lint.output)] == [
        (2, "expired"),
        (2, "missing_reason"),
    ]


def test_attest_stores_the_evidence(cli: Cli, tmp_path: Path) -> None:
    evidence = tmp_path / "bien-ban.txt"
    evidence.write_text("Biên bản kiểm tra ngày 01/11/2026\n")
    out = cli(
        "attest",
        "T1",
        "TST-3",
        "--status",
        "met",
        "--evidence",
        str(evidence),
        "--expires",
        "2099-01-01",
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert (data["system"], data["requirement"], data["status"], data["evidence_sha256"]) == (
        "T1",
        "TST-3",
        "met",
        digest,
    )
    assert (cli.home / "store" / "sha256" / digest[:2] / digest).read_bytes() == evidence.read_bytes()  # type: ignore[attr-defined]
    bad = cli(
        "attest", "T9", "TST-3", "--status", "met", "--evidence", str(evidence), "--expires", "2099-01-01"
    )
    assert (bad.exit_code, bad.output) == (2, "error: no system 'T9'\n")


def test_summary_rescore_and_diff(cli: Cli, catalog_dir: Path) -> None:
    first = stored_run(cli.db_url, catalog_dir, "yes")  # type: ignore[attr-defined]
    summary = cli("check", "summary", "--format", "json")
    assert summary.exit_code == 0, summary.output
    (t1,) = json.loads(summary.output)
    assert {
        k: t1[k]
        for k in ("system", "level", "score", "coverage", "achieved_level", "met", "not_met", "not_evaluated")
    } == {
        "system": "T1",
        "level": 2,
        "score": 0.0,
        "coverage": 0.3333,
        "achieved_level": 0,
        "met": 0,
        "not_met": 1,
        "not_evaluated": 2,
    }
    assert t1["gap_to_next_level"]["level"] == 1
    assert t1["gap_to_next_level"]["requirements"][0]["checks"] == [
        {"check": "tst_root_login", "host": "h1", "status": "fail"},
        {"check": "tst_root_login", "host": "h2", "status": "fail"},
    ]
    table = cli("check", "summary", lang="vi")
    assert "T1: điểm = đạt / (đạt + không đạt) = 0 / (0 + 1) = 0.0%" in table.output

    gated = cli("check", "rescore", str(first), "--fail-on", "high", "--format", "json")
    assert gated.exit_code == 1  # a high-severity failure
    cli(
        "waiver",
        "add",
        "--check",
        "tst_root_login",
        "--system",
        "T1",
        "--reason",
        "r",
        "--approver",
        "a",
        "--expires",
        "2099-01-01",
    )
    rescored = cli("check", "rescore", str(first), "--fail-on", "high", "--format", "json")
    assert rescored.exit_code == 0, rescored.output  # waived failures do not gate
    data = json.loads(rescored.output)
    assert (data["run_id"], data["status"], data["source_run"]) == (3, "completed", first)
    mine = [r for r in data["results"] if r["check"].startswith("tst_")]
    assert [(r["host"], r["check"], r["status"], r["original_status"]) for r in mine] == [
        ("h1", "tst_marker_ok", "not_applicable", "not_applicable"),
        ("h1", "tst_root_login", "waived", "fail"),
        ("h2", "tst_marker_ok", "not_applicable", "not_applicable"),
        ("h2", "tst_root_login", "waived", "fail"),
    ]
    assert set(mine[1]) >= {
        "host",
        "check",
        "status",
        "severity",
        "requirements",
        "expected",
        "observed",
        "detail",
    }

    fixed = stored_run(cli.db_url, catalog_dir, "no")  # type: ignore[attr-defined]
    diff = cli("check", "diff", str(first), str(fixed), "--format", "json")
    assert diff.exit_code == 0, diff.output
    out = json.loads(diff.output)
    assert [(e["host"], e["check"]) for e in out["fixed"]] == [
        ("h1", "tst_root_login"),
        ("h2", "tst_root_login"),
    ]
    assert out["counts"]["regressed"] == out["counts"]["new_failures"] == 0
    missing = cli("check", "diff", str(first), "99")
    assert (missing.exit_code, missing.output) == (2, "error: no check run 99\n")
    history = json.loads(cli("check", "runs", "--format", "json").output)
    assert [(r["run_id"], r["kind"], r["status"], r["source_run"]) for r in history] == [
        (4, "collect", "completed", None),
        (3, "rescore", "completed", 1),
        (2, "rescore", "completed", 1),
        (1, "collect", "completed", None),
    ]
