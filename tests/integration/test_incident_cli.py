"""`secops incident …` end to end on SQLite and PostgreSQL: the JSON contract, the workflow rules, legal
deadlines, evidence custody, observables, STIX export and metrics."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from stix2validator import ValidationOptions, validate_string

from secops import db
from secops.models import AuditEvent
from secops.timeutil import local, utcnow
from tests.conftest import Cli
from tests.integration.incident_helpers import seed_systems


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    seed_systems(engine)
    engine.dispose()
    home = tmp_path / "home"
    home.mkdir()
    return Cli(db_url, home)


def ago(**delta: float) -> str:
    """A local wall-clock time without offset (the way a responder types it)."""
    return f"{local(utcnow() - timedelta(**delta)).replace(tzinfo=None):%Y-%m-%dT%H:%M:%S}"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def open_incident(
    cli: Cli, *extra: str, category: str = "ransomware", detected: str | None = None
) -> dict[str, Any]:
    result = ok(
        cli(
            "incident",
            "open",
            "--title",
            "Sự cố thử",
            "--category",
            category,
            "--detected-at",
            detected or ago(hours=2),
            "--detected-by",
            "ids",
            "--format",
            "json",
            *extra,
        )
    )
    return json.loads(result.stdout)


def show(cli: Cli, code: str) -> dict[str, Any]:
    return json.loads(ok(cli("incident", "show", code, "--format", "json")).stdout)


def test_show_json_contract_and_serious_flag(cli: Cli, db_url: str) -> None:
    data = open_incident(cli, "--system", "dvc-portal", "--system", "email", "--playbook", "ransomware")
    year = local(utcnow()).year
    assert data["code"] == f"SC-{year}-0001"
    assert {
        "code",
        "title",
        "status",
        "category",
        "systems",
        "possibly_serious",
        "tasks",
        "deadlines",
        "timeline",
    } <= set(data)
    assert (data["title"], data["status"], data["category"]) == ("Sự cố thử", "new", "ransomware")
    assert [(s["code"], s["level"]) for s in data["systems"]] == [("dvc-portal", 4), ("email", 3)]
    assert data["possibly_serious"] is False
    assert {"id", "phase", "title", "status", "due"} <= set(data["tasks"][0])
    assert data["tasks"][0]["id"] == "confirm_encryption" and data["tasks"][0]["status"] == "open"
    pd_task = next(t for t in data["tasks"] if t["id"] == "personal_data_notice")
    assert pd_task["status"] == "not_applicable"
    assert [(d["kind"], d["status"]) for d in data["deadlines"]] == [
        ("notification", "open"),
        ("form03", "waiting"),
        ("form04", "waiting"),
        ("personal_data", "not_applicable"),
    ]
    assert [set(e) >= {"seq", "at", "actor", "kind", "hash", "prev_hash"} for e in data["timeline"]] == [True]
    code = data["code"]

    ok(cli("incident", "flag", code, "--set", "service_interruption", "--set", "personal_data"))
    after = show(cli, code)
    assert after["possibly_serious"] is True
    assert next(t for t in after["tasks"] if t["id"] == "personal_data_notice")["status"] == "open"
    assert next(d for d in after["deadlines"] if d["kind"] == "personal_data")["status"] == "open"
    ok(cli("incident", "serious", code, "--reject", "--reason", "Đơn vị tự xử lý được"))
    assert show(cli, code)["possibly_serious"] is False
    assert [e["kind"] for e in show(cli, code)["timeline"]] == ["opened", "flags", "serious"]

    other = open_incident(cli, "--system", "intranet", "--flag", "loss_of_control")
    assert other["possibly_serious"] is False  # no level 4–5 system
    refused = cli("incident", "serious", other["code"], "--confirm", "--reason", "x")
    assert refused.exit_code == 2 and "not flagged as possibly serious" in refused.stderr
    engine = db.make_engine(db_url)
    with Session(engine) as s:
        audit = s.exec(
            select(AuditEvent).where(AuditEvent.object_id == code).order_by(col(AuditEvent.id))
        ).all()
    engine.dispose()
    assert [a.action for a in audit] == ["incident.opened", "incident.flags", "incident.serious"]
    assert audit[-1].actor == "tester" and audit[-1].after["serious_decision"] == "rejected"  # type: ignore[index]


def test_workflow_rules_and_closing_gate(cli: Cli, tmp_path: Path) -> None:
    code = open_incident(cli, "--system", "dvc-portal", "--playbook", "ddos", category="dos")["code"]
    bad = cli("incident", "status", code, "containment")
    assert bad.exit_code == 2
    assert (
        f"error: {code}: cannot move from new to containment; allowed from new: triage, closed" in bad.stderr
    )
    early = cli("incident", "status", code, "triage", "--at", ago(days=3))
    assert early.exit_code == 2 and "before the incident was detected" in early.stderr
    ok(cli("incident", "status", code, "triage"))
    ok(cli("incident", "status", code, "containment"))
    gate = cli("incident", "status", code, "eradication")
    assert gate.exit_code == 0  # moving on is allowed; only closing is gated
    ok(cli("incident", "status", code, "recovery"))
    refused = cli("incident", "status", code, "closed", "--resolution", "resolved")
    assert refused.exit_code == 2
    assert "cannot close while mandatory tasks are open: confirm_attack, notify_coordinator" in refused.stderr
    needs = cli("incident", "task", "done", code, "collect_traffic")
    assert needs.exit_code == 2 and "needs evidence before it is done" in needs.stderr
    pcap = tmp_path / "attack.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 100)
    ok(cli("incident", "evidence", "add", code, str(pcap), "--description", "Mẫu lưu lượng tấn công"))
    ok(cli("incident", "task", "done", code, "collect_traffic", "--evidence", "E1"))
    tasks = json.loads(ok(cli("incident", "task", "list", code, "--format", "json")).stdout)
    for task in tasks:
        if task["status"] == "open" and task["mandatory"]:
            ok(cli("incident", "task", "skip", code, task["id"], "--reason", "Đã xử lý ngoài hệ thống"))
    ok(cli("incident", "status", code, "closed", "--resolution", "resolved"))
    closed = show(cli, code)
    assert (closed["status"], closed["resolution"]) == ("closed", "resolved")
    assert next(d for d in closed["deadlines"] if d["kind"] == "form04")["status"] == "open"
    assert closed["closed_with_coordinator"] is False
    ok(cli("incident", "sent", code, "--report", "form04", "--to", "VNCERT/CC", "--ref", "04/BC"))
    assert show(cli, code)["closed_with_coordinator"] is True
    done_again = cli("incident", "task", "done", code, "restore_service")
    assert done_again.exit_code == 2 and "is closed; reopen it first" in done_again.stderr
    ok(cli("incident", "status", code, "triage", "--note", "Tấn công lặp lại"))
    reopened = show(cli, code)
    assert (reopened["status"], reopened["resolution"], reopened["closed_at"]) == ("triage", None, None)
    assert reopened["timeline"][-1]["kind"] == "reopened"


def test_false_positive_closes_with_tasks_skipped_and_clocks_void(cli: Cli) -> None:
    code = open_incident(cli, "--system", "email", category="phishing")["code"]
    assert show(cli, code)["tasks"][0]["id"] == "analyse_message"  # the category's playbook by default
    ok(cli("incident", "status", code, "triage"))
    ok(cli("incident", "status", code, "closed", "--resolution", "false_positive"))
    data = show(cli, code)
    assert {t["status"] for t in data["tasks"]} == {"skipped"}
    assert {d["status"] for d in data["deadlines"]} == {"not_applicable"}
    assert data["timeline"][-1]["kind"] == "status"


def test_deadlines_sent_overdue_and_window(cli: Cli) -> None:
    late = open_incident(cli, "--system", "dvc-portal", "--playbook", "none", detected=ago(days=6))["code"]
    fresh = open_incident(cli, "--system", "email", "--playbook", "none", detected=ago(hours=1))["code"]
    overdue = cli("incident", "deadlines", "--fail-on-overdue", "--format", "json")
    assert overdue.exit_code == 1
    rows = json.loads(overdue.stdout)
    assert [(r["incident"], r["kind"], r["status"]) for r in rows] == [
        (late, "notification", "overdue"),
        (fresh, "notification", "open"),
    ]
    window = json.loads(ok(cli("incident", "deadlines", "--within", "48h", "--format", "json")).stdout)
    assert [r["incident"] for r in window] == [late]
    assert cli("incident", "sent", late, "--report", "memo", "--to", "x").exit_code == 2
    ok(
        cli(
            "incident",
            "sent",
            late,
            "--report",
            "notification",
            "--to",
            "VNCERT/CC; UBND tỉnh",
            "--ref",
            "01/TB",
        )
    )
    ok(cli("incident", "deadlines", "--fail-on-overdue"))
    state = next(d for d in show(cli, late)["deadlines"] if d["kind"] == "notification")
    assert (state["status"], state["ref"]) == ("sent_late", "01/TB")
    ok(cli("incident", "flag", fresh, "--set", "exceeds_capacity"))
    form03 = json.loads(ok(cli("incident", "deadlines", fresh, "--format", "json")).stdout)
    assert next(r for r in form03 if r["kind"] == "form03")["status"] in ("open", "overdue")


def test_evidence_custody_and_refusals(cli: Cli, tmp_path: Path) -> None:
    code = open_incident(cli, "--system", "dvc-portal", "--playbook", "none")["code"]
    log = tmp_path / "auth.log"
    log.write_text("Failed password for root from 203.0.113.9\n", encoding="utf-8")
    (tmp_path / "link.log").symlink_to(log)
    os.mkfifo(tmp_path / "pipe")
    for args, message in [
        ((str(tmp_path / "link.log"),), "symbolic links are refused"),
        ((str(tmp_path),), "not a regular file"),
        ((str(tmp_path / "pipe"),), "not a regular file"),
        ((str(log), "--name", "../../etc/cron.d/x"), "unsafe evidence name"),
        ((str(log), "--max-size", "10"), "file larger than the limit of 10 bytes"),
    ]:
        refused = cli("incident", "evidence", "add", code, *args, "--description", "x")
        assert refused.exit_code == 2 and message in refused.stderr, refused.output
    assert json.loads(ok(cli("incident", "evidence", "list", code, "--format", "json")).stdout) == []
    ok(
        cli(
            "incident",
            "evidence",
            "add",
            code,
            str(log),
            "--description",
            "Nhật ký xác thực",
            "--purpose",
            "Điều tra",
        )
    )
    (item,) = json.loads(ok(cli("incident", "evidence", "list", code, "--format", "json")).stdout)
    import hashlib

    digest = hashlib.sha256(log.read_bytes()).hexdigest()
    assert (item["id"], item["name"], item["sha256"], item["size"]) == ("E1", "auth.log", digest, 42)
    stored = cli.home / "store" / "sha256" / digest[:2] / digest
    assert stored.read_bytes() == log.read_bytes()
    assert stat.S_IMODE(stored.stat().st_mode) & 0o222 == 0  # read-only
    ok(
        cli(
            "incident",
            "evidence",
            "custody",
            code,
            "E1",
            "--action",
            "transferred",
            "--to",
            "Công an tỉnh",
            "--purpose",
            "Bàn giao điều tra",
        )
    )
    out = tmp_path / "out"
    out.mkdir()
    ok(cli("incident", "evidence", "export", code, "E1", str(out), "--purpose", "Gửi VNCERT"))
    assert (out / "auth.log").read_bytes() == log.read_bytes()
    again = cli("incident", "evidence", "export", code, "E1", str(out), "--purpose", "x")
    assert again.exit_code == 2 and "already exists" in again.stderr
    ok(cli("incident", "evidence", "verify", code))
    stored.chmod(0o600)
    stored.write_text("edited\n", encoding="utf-8")
    assert cli("incident", "evidence", "verify", code).exit_code == 1
    custody = json.loads(ok(cli("incident", "evidence", "custody", code, "E1", "--format", "json")).stdout)
    assert [(c["action"], c["sha256_ok"]) for c in custody] == [
        ("collected", None),
        ("transferred", None),
        ("exported", True),
        ("verified", True),
        ("verified", False),
    ]
    assert custody[1]["to"] == "Công an tỉnh"
    kinds = [e["kind"] for e in show(cli, code)["timeline"]]
    assert kinds == ["opened", "evidence_added", "custody", "custody", "custody", "custody", "custody"]
    ok(cli("incident", "verify", code))


def test_observables_export_stats_and_vietnamese(cli: Cli, tmp_path: Path) -> None:
    detected = utcnow() - timedelta(days=3)
    first = open_incident(
        cli,
        "--system",
        "dvc-portal",
        "--playbook",
        "none",
        detected=f"{local(detected).replace(tzinfo=None):%Y-%m-%dT%H:%M:%S}",
    )["code"]
    second = open_incident(cli, "--system", "email", "--playbook", "none", category="phishing")["code"]
    ok(cli("incident", "note", first, "C2 tại 203.0.113.5 và evil[.]example.com", "--extract-iocs"))
    ok(cli("ioc", "add", second, "ip", "203.0.113.5", "--tlp", "green"))
    dup = cli("ioc", "add", second, "ip", "203.0.113.5")
    assert dup.exit_code == 2 and "already has ip 203.0.113.5" in dup.stderr
    hits = json.loads(ok(cli("ioc", "search", "203.0.113", "--format", "json")).stdout)
    assert [(h["incident"], h["value"], h["tlp"]) for h in hits] == [
        (first, "203.0.113.5", "amber"),
        (second, "203.0.113.5", "green"),
    ]
    bundle_path = tmp_path / "bundle.json"
    ok(cli("incident", "export", first, "--format", "stix", "--output", str(bundle_path)))
    result = validate_string(bundle_path.read_text(encoding="utf-8"), ValidationOptions(strict=True))
    assert result.is_valid and result.warnings == []
    full = json.loads(ok(cli("incident", "export", first, "--format", "json")).stdout)
    assert full["chain"]["verified"] is True
    assert [o["value"] for o in full["observables"]] == ["203.0.113.5", "evil.example.com"]

    def at(hours: float) -> str:
        return f"{local(detected + timedelta(hours=hours)).replace(tzinfo=None):%Y-%m-%dT%H:%M:%S}"

    for status, hours in [
        ("triage", 1),
        ("containment", 2),
        ("eradication", 5),
        ("recovery", 8),
        ("closed", 30),
    ]:
        extra = ["--resolution", "resolved"] if status == "closed" else []
        ok(cli("incident", "status", first, status, "--at", at(hours), *extra))
    period = str(local(detected).year)
    stats = json.loads(ok(cli("incident", "stats", "--period", period, "--format", "json")).stdout)
    assert stats["incidents"] == 2 and stats["by_category"]["ransomware"] == 1
    assert stats["by_category"]["phishing"] == 1
    assert (stats["time_to_acknowledge"]["count"], stats["time_to_acknowledge"]["mean_hours"]) == (1, 1.0)
    assert stats["time_to_contain"]["mean_hours"] == 5.0 and stats["time_to_close"]["mean_hours"] == 30.0

    vi = ok(cli("incident", "list", "--format", "csv", lang="vi"))
    assert "Mã hóa phần mềm, dữ liệu, thiết bị" in vi.stdout and "Đã đóng" in vi.stdout
    assert "Tấn công giả mạo" in vi.stdout and "Mới tiếp nhận" in vi.stdout
    opened = datetime.fromisoformat(show(cli, first)["detected_at"])
    assert opened == detected.replace(microsecond=0)
