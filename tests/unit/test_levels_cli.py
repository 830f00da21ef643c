"""`secops level …` through the CLI on SQLite and PostgreSQL: JSON contract, persistence, approval,
dossier, audit events, exit codes, a second regime from a catalog directory."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from secops import db
from secops.levels.procedure import describe
from secops.models import Agency, AuditEvent, System, SystemComponent
from tests.conftest import Cli
from tests.unit.test_levels_rules import NEW_REGIME, write_regime

SYSTEMS: dict[str, dict[str, Any]] = {
    "dvc-portal": {
        "name": "Cổng dịch vụ công trực tuyến",
        "function": "citizen_service",
        "information": ["public", "personal"],
        "online_public_service_level": 4,
        "conditional_business_service": False,
        "personal_data_users": 120_000,
    },
    "hrm": {
        "name": "Hệ thống quản lý cán bộ",
        "function": "internal",
        "information": ["private", "personal"],
    },
    "news": {"name": "Trang tin nội bộ", "function": "internal", "information": ["public"]},
    "secret": {"name": "Hệ thống văn bản mật", "function": "internal", "information": ["state_secret"]},
    "suite": {"name": "Bộ ứng dụng dùng chung", "function": "internal", "information": ["public"]},
}


def seed(engine: Engine, regime: dict[str, str] | None = None) -> None:
    with db.session_scope(engine) as s:
        agency = Agency(code="ubnd-tinh", name="Ủy ban nhân dân tỉnh")
        s.add(agency)
        s.flush()
        ids = {}
        for code, fields in SYSTEMS.items():
            system = System(
                code=code, owner_id=agency.id, regime=(regime or {}).get(code, "decree85"), **fields
            )
            s.add(system)
            s.flush()
            ids[code] = system.id
        s.add(SystemComponent(parent_id=ids["suite"], child_id=ids["dvc-portal"]))


def system(engine: Engine, code: str) -> System:
    with Session(engine) as s:
        return s.exec(select(System).where(System.code == code)).one()


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))
        )


def classify_json(run: Cli, *args: str, lang: str = "en") -> list[dict[str, Any]]:
    result = run("level", "classify", *args, "--format", "json", lang=lang)
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def test_classify_all_json_contract_and_persistence(engine: Engine, run: Cli) -> None:
    seed(engine)
    data = classify_json(run, "--all")
    assert [d["system"] for d in data] == ["dvc-portal", "hrm", "news", "secret", "suite"]
    for item in data:
        assert {"system", "name", "proposed_level", "status", "approved_level", "reasons", "missing"} <= set(
            item
        )
        assert all(set(r) == {"level", "basis", "text"} for r in item["reasons"])
    by = {d["system"]: d for d in data}
    assert [(by[c]["proposed_level"], by[c]["status"], by[c]["missing"]) for c in by] == [
        (3, "proposed", []),
        (2, "proposed", []),
        (1, "proposed", []),
        (None, "undetermined", ["state_secret_harm"]),
        (3, "proposed", []),
    ]
    assert by["dvc-portal"]["name"] == "Cổng dịch vụ công trực tuyến"
    assert [r["basis"] for r in by["dvc-portal"]["reasons"]] == ["Art. 9.2(a)", "Art. 9.2(c)", "Art. 8.2(b)"]
    assert by["suite"]["reasons"][0] == {
        "level": 3,
        "basis": "Art. 5.2",
        "text": "Component system dvc-portal is at level 3; "
        "a system takes the highest level of its components.",
    }
    assert by["hrm"]["approved_level"] is None

    stored = system(engine, "secret")
    assert (stored.proposed_level, stored.proposed_status, stored.proposed_missing) == (
        None,
        "undetermined",
        ["state_secret_harm"],
    )
    portal = system(engine, "dvc-portal")
    assert (portal.proposed_level, portal.proposed_status) == (3, "proposed")
    assert portal.proposed_reasons[0]["basis"] == {"vi": "Điều 9 khoản 2 điểm a", "en": "Art. 9.2(a)"}
    first = events(engine, "level.classify")
    assert [(e.object_id, e.actor, e.after["proposed_level"]) for e in first] == [
        ("dvc-portal", "tester", 3),
        ("hrm", "tester", 2),
        ("news", "tester", 1),
        ("secret", "tester", None),
        ("suite", "tester", 3),
    ]
    assert first[0].before == {
        "proposed_level": None,
        "proposed_status": None,
        "proposed_reasons": [],
        "proposed_missing": [],
    }
    classify_json(run, "--all")
    assert len(events(engine, "level.classify")) == 5  # unchanged proposals write no new event


def test_classify_in_vietnamese_and_table(engine: Engine, run: Cli) -> None:
    seed(engine)
    data = classify_json(run, "hrm", lang="vi")
    assert data[0]["reasons"] == [
        {
            "level": 2,
            "basis": "Điều 8 khoản 1",
            "text": (
                "Hệ thống phục vụ hoạt động nội bộ có xử lý thông tin riêng, "
                "thông tin cá nhân của người sử dụng nhưng không xử lý thông tin bí mật nhà nước."
            ),
        }
    ]
    result = run("level", "classify", "secret", "news", lang="vi", COLUMNS=300)
    assert result.exit_code == 0
    assert "chưa xác định" in result.stdout and "đề xuất" in result.stdout
    assert "state_secret_harm" in result.stdout and "Điều 7" in result.stdout
    csv = run("level", "classify", "news", "secret", "--format", "csv")
    assert csv.stdout.splitlines() == [
        "system,name,proposed_level,status,approved_level,reason,missing",
        "news,Trang tin nội bộ,1,proposed,,Art. 7: Internal system that processes only public information.,",
        "secret,Hệ thống văn bản mật,,undetermined,,,state_secret_harm",
    ]


def test_unknown_code_and_missing_selection_exit_2(engine: Engine, run: Cli) -> None:
    seed(engine)
    result = run("level", "classify", "hrm", "nope")
    assert (result.exit_code, result.stderr) == (2, "error: unknown system(s): nope\n")
    assert events(engine, "level.classify") == []  # nothing written
    assert run("level", "classify").exit_code == 2


def approve(run: Cli, code: str, level: int, *extra: str) -> Any:
    return run(
        "level",
        "approve",
        code,
        "--level",
        str(level),
        "--decision",
        "123/QĐ-UBND",
        "--date",
        "2026-05-04",
        "--approver",
        "Chủ tịch UBND tỉnh",
        *extra,
    )


def test_approve_below_proposal_needs_force_and_reason(engine: Engine, run: Cli) -> None:
    seed(engine)
    refused = approve(run, "dvc-portal", 2)
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: level 2 is below the proposed level 3 of dvc-portal; approving below the "
        "proposal needs --force --reason TEXT\n"
    )
    assert system(engine, "dvc-portal").approved_level is None
    assert events(engine, "level.approve") == []
    no_reason = approve(run, "dvc-portal", 2, "--force")
    assert (no_reason.exit_code, no_reason.stderr) == (
        2,
        "error: --force needs --reason TEXT (it is kept in the audit log)\n",
    )
    ok = approve(run, "dvc-portal", 2, "--force", "--reason", "Chỉ còn dịch vụ mức độ 2")
    assert ok.exit_code == 0, ok.output
    stored = system(engine, "dvc-portal")
    assert (
        stored.approved_level,
        stored.decision_ref,
        stored.decision_date,
        stored.approver,
        stored.approval_reason,
    ) == (2, "123/QĐ-UBND", date(2026, 5, 4), "Chủ tịch UBND tỉnh", "Chỉ còn dịch vụ mức độ 2")
    [event] = events(engine, "level.approve")
    assert (event.object_id, event.actor, event.details) == (
        "dvc-portal",
        "tester",
        {
            "proposed_level": 3,
            "proposed_status": "proposed",
            "forced": True,
            "reason": "Chỉ còn dịch vụ mức độ 2",
        },
    )
    assert event.before["approved_level"] is None and event.after["decision_date"] == "2026-05-04"
    [item] = classify_json(run, "dvc-portal")
    assert (item["status"], item["proposed_level"], item["approved_level"]) == ("approved", 3, 2)


def test_approve_at_or_above_proposal_and_undetermined(engine: Engine, run: Cli) -> None:
    seed(engine)
    ok = approve(run, "hrm", 3)
    assert ok.exit_code == 0
    assert ok.stdout == "hrm: level 3 approved by decision 123/QĐ-UBND of 2026-05-04 (proposed: 2)\n"
    assert events(engine, "level.approve")[0].details["forced"] is False
    refused = approve(run, "secret", 4)
    assert refused.exit_code == 2
    assert "system secret is undetermined (missing: state_secret_harm)" in refused.stderr
    assert "--force --reason TEXT" in refused.stderr
    forced = approve(run, "secret", 4, "--force", "--reason", "Ban Cơ yếu xác định tổn hại nghiêm trọng")
    assert forced.exit_code == 0
    assert (
        system(engine, "secret").approved_level,
        events(engine, "level.approve")[-1].details["forced"],
    ) == (4, True)
    assert approve(run, "nope", 2).exit_code == 2
    assert (
        run(
            "level",
            "approve",
            "hrm",
            "--level",
            "6",
            "--decision",
            "x",
            "--date",
            "2026-05-04",
            "--approver",
            "y",
        ).exit_code
        == 2
    )
    assert (
        run(
            "level",
            "approve",
            "hrm",
            "--level",
            "2",
            "--decision",
            "x",
            "--date",
            "04/05/2026",
            "--approver",
            "y",
        ).exit_code
        == 2
    )


def test_dossier_items_recorded_and_described(engine: Engine, run: Cli) -> None:
    seed(engine)
    classify_json(run, "dvc-portal")
    result = run("level", "dossier", "dvc-portal", "overview", "--ref", "TM-2026-01")
    assert (result.exit_code, result.stdout) == (0, "dvc-portal: dossier item overview recorded\n")
    assert run("level", "dossier", "dvc-portal", "justification", "--ref", "TT-02").exit_code == 0
    view = describe(system(engine, "dvc-portal"), "en")
    assert [(d["id"], d["required"], d["present"], d["ref"]) for d in view["dossier"]] == [
        ("overview", True, True, "TM-2026-01"),
        ("design", True, False, None),
        ("justification", True, True, "TT-02"),
        ("security_plan", True, False, None),
        ("infosec_opinion", False, False, None),
    ]
    assert (view["appraisal"], view["approval"], view["inspection_interval_months"]) == (
        "The system owner's designated information-security unit",
        "The system owner",
        12,
    )
    vi = describe(system(engine, "dvc-portal"), "vi")
    assert vi["approval"] == "Chủ quản hệ thống thông tin"
    assert vi["dossier"][0]["title"] == "Tài liệu mô tả, thuyết minh tổng quan về hệ thống thông tin"
    removed = run("level", "dossier", "dvc-portal", "overview", "--remove")
    assert removed.exit_code == 0
    assert system(engine, "dvc-portal").dossier == {"justification": "TT-02"}
    audit = events(engine, "level.dossier")
    assert [(e.details["item"], e.details["removed"]) for e in audit] == [
        ("overview", False),
        ("justification", False),
        ("overview", True),
    ]
    assert audit[-1].before == {"dossier": {"overview": "TM-2026-01", "justification": "TT-02"}}
    bad = run("level", "dossier", "dvc-portal", "budget", "--ref", "x")
    assert bad.exit_code == 2
    assert bad.stderr == (
        "error: unknown dossier item 'budget'; use one of: overview, design, justification, "
        "security_plan, infosec_opinion\n"
    )
    assert run("level", "dossier", "dvc-portal", "design").exit_code == 2  # no --ref


def test_describe_undetermined_and_level_5(engine: Engine, run: Cli) -> None:
    seed(engine)
    classify_json(run, "secret")
    view = describe(system(engine, "secret"), "en")
    assert (view["level"], view["inspection_interval_months"]) == (None, None)
    assert view["approval"].startswith("Level not determined yet")
    assert approve(run, "secret", 5, "--force", "--reason", "Thủ tướng quyết định").exit_code == 0
    view = describe(system(engine, "secret"), "vi")
    assert (view["level"], view["level_source"], view["inspection_interval_months"]) == (5, "approved", 6)
    assert view["approval"].startswith("Thủ tướng Chính phủ phê duyệt Danh mục")
    assert [d["required"] for d in view["dossier"]] == [True, True, True, True, True]


def test_rules_listing(run: Cli) -> None:
    result = run("level", "rules", "--format", "json")
    assert result.exit_code == 0
    rules = json.loads(result.stdout)
    assert len(rules) == 21
    assert rules[0] == {
        "id": "d85-7",
        "level": 1,
        "basis": "Art. 7",
        "text": "Internal system that processes only public information.",
        "condition": "function = internal AND information ⊆ {public}",
        "when": {
            "all": [
                {"field": "function", "eq": "internal"},
                {"field": "information", "subset_of": ["public"]},
            ]
        },
    }
    table = run("level", "rules", lang="vi", COLUMNS=300)
    assert "Điều 11 khoản 5" in table.stdout
    assert run("level", "rules", "--regime", "nd999").exit_code == 2


def test_second_regime_from_catalog_directory(engine: Engine, run: Cli, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    write_regime(catalog, "nd331", NEW_REGIME)
    seed(engine, regime={"hrm": "nd331"})
    result = run("--catalog", str(catalog), "level", "classify", "hrm", "news", "--format", "json")
    assert result.exit_code == 0, result.output
    hrm, news = json.loads(result.stdout)
    assert (hrm["regime"], hrm["proposed_level"], hrm["reasons"]) == (
        "nd331",
        2,
        [{"level": 2, "basis": "Art. 12", "text": "Internal system."}],
    )
    assert (news["regime"], news["proposed_level"]) == ("decree85", 1)
    listed = run("--catalog", str(catalog), "level", "rules", "--regime", "nd331", "--format", "json")
    assert [r["id"] for r in json.loads(listed.stdout)] == ["nd331-13.1", "nd331-13.2", "nd331-12"]
    missing = run("level", "classify", "hrm")  # without the catalog the regime cannot be found
    assert missing.exit_code == 2 and "unknown legal regime 'nd331'" in missing.stderr
