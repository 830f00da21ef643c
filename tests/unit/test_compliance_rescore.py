"""Runs stored per host and re-scored from their stored fact bundles (no host contacted), on both databases.

The catalog is the shipped one plus a tiny test framework (regime ``tstregime``) written here, so the
assertions do not depend on the shipped checks.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from secops import db
from secops.catalog import load_catalog
from secops.collect.bundle import RawFact
from secops.compliance import runs, summary
from secops.compliance.evaluation import canonical_hash
from secops.compliance.waivers import WaiverIndex
from secops.errors import InvalidStateError, NotFoundError
from secops.i18n import set_language
from secops.models import Agency, Host, System
from secops.models.compliance import CheckResult, CheckRun, FactBundle, Waiver
from secops.timeutil import utcnow


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")


TEXT = "{vi: Kiểm thử, en: Test}"
CATALOG_FILES = {
    "facts/tst.yaml": """
platform: linux
facts:
  - {id: tst_sshd, description: effective sshd settings, command: "sshd -T", parser: keyvalue}
  - {id: tst_marker, description: a marker file, command: "cat /etc/tst-marker", parser: text}
""",
    "frameworks/tst.yaml": f"""
regime: tstregime
title: {TEXT}
basis: [test]
groups:
  tst: {{kind: technical, title: {TEXT}}}
requirements:
  - {{id: TST-1, group: tst, kind: technical, title: {TEXT}, min_level: 1, source: t, confidence: M,
      checks: [tst_root_login]}}
  - {{id: TST-2, group: tst, kind: technical, title: {TEXT}, min_level: 2, source: t, confidence: M,
      checks: [tst_marker_ok]}}
  - {{id: TST-3, group: tst, kind: technical, title: {TEXT}, min_level: 2, source: t, confidence: M,
      manual: true}}
""",
    "linux/tst.yaml": f"""
checks:
  - id: tst_root_login
    title: {TEXT}
    severity: high
    platform: linux
    requirements: [TST-1]
    facts: [tst_sshd]
    probe: {{fact: tst_sshd, path: permitrootlogin, equals: "no"}}
    rationale: {TEXT}
    remediation: {TEXT}
    tests:
      - {{expect: pass, facts: {{tst_sshd: "permitrootlogin no"}}}}
      - {{expect: fail, facts: {{tst_sshd: "permitrootlogin yes"}}}}
  - id: tst_marker_ok
    title: {TEXT}
    severity: low
    platform: linux
    requirements: [TST-2]
    facts: [tst_marker]
    applies_to: {{min_level: 3}}
    probe: {{fact: tst_marker, equals: ok}}
    rationale: {TEXT}
    remediation: {TEXT}
    tests:
      - {{expect: pass, facts: {{tst_marker: ok}}}}
      - {{expect: fail, facts: {{tst_marker: bad}}}}
""",
}


@pytest.fixture
def catalog(tmp_path: Path) -> Any:
    root = tmp_path / "catalog"
    for rel, text in CATALOG_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return load_catalog(extra_dirs=(root,))


def seed(engine: Engine, level: int) -> None:
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd", name="UBND tỉnh")
        s.add(agency)
        s.flush()
        system = System(
            code="T1", name="Hệ thống thử", owner_id=agency.id, regime="tstregime", approved_level=level
        )
        s.add(system)
        s.flush()
        s.add_all(
            [
                Host(name="h1", address="127.0.0.21", system_id=system.id, zone="dmz"),
                Host(name="h2", address="127.0.0.22", system_id=system.id),
            ]
        )


def mine(rows: list[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r.host_name, r.check_id): (r.status, r.original_status)
        for r in rows
        if r.check_id.startswith("tst_")
    }


def collect_run(engine: Engine, catalog: Any) -> int:
    """A run as ``check run`` stores it: h1 collected, h2 unreachable."""
    run_id = runs.start_run(engine, "tester", kind="collect", selection={"all": True}, hosts_total=2)
    with Session(engine) as s:
        contexts = {h.name: runs.host_context(s, h) for h in s.exec(select(Host))}
        waivers = WaiverIndex.load(s)
    raw = {
        "tst_sshd": RawFact(rc=0, stdout="permitrootlogin yes\nport 22\n"),
        "tst_marker": RawFact(rc=0, stdout="ok\n"),
    }
    runs.store_host(
        engine,
        run_id,
        catalog,
        contexts["h1"],
        waivers,
        transport="ssh",
        raw=raw,
        error=None,
        fingerprint="SHA256:abc",
    )
    runs.store_host(
        engine,
        run_id,
        catalog,
        contexts["h2"],
        waivers,
        transport="ssh",
        raw=None,
        error="unreachable: connection refused",
        error_kind="unreachable",
    )
    runs.finish_run(engine, run_id, "tester")
    return run_id


def test_run_stores_bundles_and_results_per_host(engine: Engine, catalog: Any) -> None:
    seed(engine, 2)
    run_id = collect_run(engine, catalog)
    with Session(engine) as s:
        run = runs.get_run(s, run_id)
        assert (run.status, run.hosts_done, run.hosts_total) == ("incomplete", 2, 2)
        results = runs.run_results(s, run_id)
        assert mine(results) == {
            ("h1", "tst_root_login"): ("fail", "fail"),
            ("h1", "tst_marker_ok"): ("not_applicable", "not_applicable"),  # applies from level 3
            ("h2", "tst_root_login"): ("error", "error"),
            ("h2", "tst_marker_ok"): ("error", "error"),
        }
        by_key = {(r.host_name, r.check_id): r for r in results}
        fail = by_key[("h1", "tst_root_login")]
        assert (fail.severity, fail.requirements) == ("high", ["TST-1"])
        assert fail.expected.endswith("permitrootlogin == no") and "yes" in fail.observed
        assert by_key[("h2", "tst_root_login")].detail == "unreachable: connection refused"
        bundles = {b.host_name: b for b in s.exec(select(FactBundle))}
        assert bundles["h1"].host_key_fingerprint == "SHA256:abc"
        assert bundles["h1"].sha256 == canonical_hash(bundles["h1"].facts)
        assert bundles["h1"].facts["tst_sshd"]["stdout"] == "permitrootlogin yes\nport 22\n"
        assert (bundles["h2"].error_kind, bundles["h2"].facts) == ("unreachable", {})


def test_rescore_applies_current_waivers_levels_and_keeps_history(engine: Engine, catalog: Any) -> None:
    seed(engine, 2)
    source = collect_run(engine, catalog)
    with db.session_scope(engine) as s:
        s.add(
            Waiver(
                check_id="tst_root_login",
                host_pattern="h1",
                reason="legacy",
                approver="CIO",
                expires_at=utcnow() + timedelta(days=30),
                actor="t",
            )
        )
        system = s.exec(select(System)).one()
        system.approved_level = 3
        s.add(system)
    rescored = runs.rescore(engine, "tester", catalog, source)
    with Session(engine) as s:
        assert (rescored.kind, rescored.source_run_id, rescored.status) == ("rescore", source, "incomplete")
        assert mine(runs.run_results(s, rescored.id or 0)) == {
            ("h1", "tst_root_login"): ("waived", "fail"),
            ("h1", "tst_marker_ok"): ("pass", "pass"),  # level 3 now: the check applies
            ("h2", "tst_root_login"): ("error", "error"),
            ("h2", "tst_marker_ok"): ("error", "error"),
        }
        # The source run is untouched, and no bundle was added: the rescore points at the stored ones.
        assert mine(runs.run_results(s, source))[("h1", "tst_root_login")] == ("fail", "fail")
        assert len(list(s.exec(select(FactBundle)))) == 2
        source_bundles = {b.id for b in s.exec(select(FactBundle))}
        assert {r.bundle_id for r in runs.run_results(s, rescored.id or 0)} == source_bundles
    # A rescore of a rescore still finds the original bundles.
    again = runs.rescore(engine, "tester", catalog, rescored.id or 0)
    with Session(engine) as s:
        assert mine(runs.run_results(s, again.id or 0)) == mine(runs.run_results(s, rescored.id or 0))
        score = summary.score_systems(s, catalog, ["T1"])[0].to_json()
    # Level 3: h2 could not be collected, so TST-1 and TST-2 are not evaluated (never passed), TST-3 has
    # no attestation. The waived failure on h1 is reported, not hidden.
    assert (score["level"], score["met"], score["not_met"], score["not_evaluated"]) == (3, 0, 0, 3)
    assert (score["score"], score["coverage"], score["achieved_level"]) == (None, 0.0, 0)
    tst1 = score["gap_to_next_level"]["requirements"][0]
    assert tst1["id"] == "TST-1" and tst1["checks"] == [
        {"check": "tst_root_login", "host": "h2", "status": "error"}
    ]
    assert tst1["waived"] == [{"check": "tst_root_login", "host": "h1", "status": "waived"}]


def test_rescore_refuses_unknown_and_running_runs(engine: Engine, catalog: Any) -> None:
    seed(engine, 1)
    with pytest.raises(NotFoundError, match="no check run 42"):
        runs.rescore(engine, "tester", catalog, 42)
    with db.session_scope(engine) as s:
        s.add(CheckRun(actor="t", status="running"))
    with pytest.raises(InvalidStateError, match="still running"):
        runs.rescore(engine, "tester", catalog, 1)


def test_checks_of_another_platform_neither_block_nor_prove(engine: Engine, catalog: Any) -> None:
    seed(engine, 1)
    with db.session_scope(engine) as s:
        system = s.exec(select(System)).one()
        s.add(Host(name="w1", address="127.0.0.23", system_id=system.id, os="windows"))
        s.delete(s.exec(select(Host).where(Host.name == "h2")).one())
    run_id = runs.start_run(engine, "tester", kind="collect", selection={"all": True}, hosts_total=2)
    with Session(engine) as s:
        contexts = {h.name: runs.host_context(s, h) for h in s.exec(select(Host))}
        waivers = WaiverIndex.load(s)
    raw = {"tst_sshd": RawFact(rc=0, stdout="permitrootlogin no\n")}
    runs.store_host(engine, run_id, catalog, contexts["h1"], waivers, transport="ssh", raw=raw, error=None)
    stored = runs.store_host(engine, run_id, catalog, contexts["w1"], waivers, transport="ssh", raw={}, error=None)
    runs.finish_run(engine, run_id, "tester")
    # Only the network (nmap) checks apply to a Windows host; with no scan of its address none can pass.
    with Session(engine) as s:
        w1 = s.exec(select(CheckResult).where(CheckResult.host_name == "w1")).all()
    network = {c.id for c in catalog.checks.values() if c.platform == "network"}
    assert stored == len(w1) == len(network)
    assert {r.check_id for r in w1} == network and {r.status for r in w1} <= {"skipped", "not_applicable"}
    with Session(engine) as s:
        score = summary.score_systems(s, catalog, ["T1"])[0]
    assert [(r.id, r.state) for r in score.requirements if r.id == "TST-1"] == [("TST-1", "met")]
    assert (score.met, score.not_met, score.not_evaluated, score.achieved_level) == (1, 0, 0, 1)
