"""Inventory import happy paths (YAML, CSV, XLSX), upsert semantics, audit events and dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from secops import db
from secops.i18n import set_language
from secops.inventory.export import export_document
from secops.inventory.importer import import_files
from secops.models import AuditEvent, Host, System

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"
PROVINCE = FIXTURES / "province.yaml"


@pytest.fixture(autouse=True)
def _english() -> None:
    set_language("en")


def _import(engine: Engine, *paths: Path, dry_run: bool = False, kind: str | None = None) -> dict:
    with db.session_scope(engine) as s:
        return import_files(s, list(paths), "alice", dry_run, kind=kind).to_dict()


def _doc(engine: Engine) -> dict:
    with Session(engine) as s:
        return export_document(s)


def _counts(created: int = 0, updated: int = 0, unchanged: int = 0) -> dict[str, int]:
    return {"created": created, "updated": updated, "unchanged": unchanged}


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_yaml_import_stores_every_field(engine: Engine) -> None:
    summary = _import(engine, PROVINCE)
    assert summary == {
        "dry_run": False,
        "files": [str(PROVINCE)],
        "agencies": _counts(3),
        "systems": _counts(3),
        "hosts": _counts(3),
        "scopes": _counts(2),
    }
    doc = _doc(engine)
    assert doc["agencies"] == [
        {"code": "so-khcn", "name": "Sở Khoa học và Công nghệ", "parent": "ubnd-tinh"},
        {"code": "trung-tam-cds", "name": "Trung tâm Chuyển đổi số tỉnh", "parent": "so-khcn"},
        {"code": "ubnd-tinh", "name": "Ủy ban nhân dân tỉnh", "parent": None},
    ]
    portal = doc["systems"][0]
    assert portal == {
        "code": "dvc-portal",
        "name": "Cổng dịch vụ công trực tuyến",
        "description": "Cổng cung cấp dịch vụ công trực tuyến toàn trình của tỉnh",
        "owner": "ubnd-tinh",
        "operator": "trung-tam-cds",
        "function": "citizen_service",
        "information": ["public", "personal"],
        "online_public_service_level": 4,
        "conditional_business_service": False,
        "personal_data_users": 120000,
        "infrastructure_scope": None,
        "ics_construction_grade": None,
        "state_secret_harm": None,
        "national_egov_24x7": False,
        "national_critical_data": False,
        "designated_level_5": False,
        "components": ["mot-cua"],
        "regime": "decree85",
        "dossier": {"overview": "CV 123/TTCDS", "design": "QĐ 45/QĐ-UBND"},
    }
    assert doc["hosts"][0] == {
        "name": "dvc-db-01",
        "address": "127.10.2.10",
        "system": "dvc-portal",
        "os": "linux",
        "zone": "db",
        "transport": "ssh",
        "ssh": {
            "user": "secops",
            "port": 2222,
            "key": "/etc/secops/keys/id_ed25519",
            "known_hosts": None,
            "host_key": "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
            "sudo": True,
        },
        "services": ["22/tcp", "5432/tcp"],
    }
    assert doc["hosts"][2]["transport"] == "local"
    assert doc["scopes"] == [
        {"name": "db", "cidr": "127.10.2.0/24", "zone": "db", "owner": None},
        {"name": "dmz", "cidr": "127.10.1.0/24", "zone": "dmz", "owner": "trung-tam-cds"},
    ]
    events = _events(engine)
    assert len(events) == 11 and {e.action for e in events} == {"inventory.create"}
    portal_event = next(e for e in events if e.object_id == "dvc-portal")
    assert (portal_event.actor, portal_event.object_type, portal_event.before) == ("alice", "system", None)
    assert portal_event.after is not None and portal_event.after["components"] == ["mot-cua"]


def test_reimport_is_unchanged_and_writes_no_audit(engine: Engine) -> None:
    _import(engine, PROVINCE)
    assert _import(engine, PROVINCE) == {
        "dry_run": False,
        "files": [str(PROVINCE)],
        "agencies": _counts(0, 0, 3),
        "systems": _counts(0, 0, 3),
        "hosts": _counts(0, 0, 3),
        "scopes": _counts(0, 0, 2),
    }
    assert len(_events(engine)) == 11


def test_upsert_updates_only_given_fields_and_audits_before_after(engine: Engine, tmp_path: Path) -> None:
    _import(engine, PROVINCE)
    change = tmp_path / "change.yaml"
    change.write_text(
        """\
systems:
  - code: van-phong
    name: "Hệ thống quản lý văn bản và điều hành tỉnh"
    owner: ubnd-tinh
    personal_data_users: null
    components: [mot-cua]
hosts:
  - {name: dvc-web-01, address: 127.10.1.11, ssh: {user: audit, port: 2200}}
scopes:
  - {name: mgmt, cidr: "::1/128", zone: mgmt}
""",
        encoding="utf-8",
    )
    assert _import(engine, change) == {
        "dry_run": False,
        "files": [str(change)],
        "agencies": _counts(),
        "systems": _counts(0, 1),
        "hosts": _counts(0, 1),
        "scopes": _counts(1),
    }
    doc = _doc(engine)
    office = next(s for s in doc["systems"] if s["code"] == "van-phong")
    # Given fields change; absent ones (function, information) keep their values; null clears.
    assert (
        office["name"],
        office["owner"],
        office["function"],
        office["information"],
        office["personal_data_users"],
        office["components"],
    ) == (
        "Hệ thống quản lý văn bản và điều hành tỉnh",
        "ubnd-tinh",
        "internal",
        ["private"],
        None,
        ["mot-cua"],
    )
    web = next(h for h in doc["hosts"] if h["name"] == "dvc-web-01")
    assert (web["address"], web["system"], web["services"], web["ssh"]) == (
        "127.10.1.11",
        "dvc-portal",
        ["22/tcp", "443/tcp"],
        {"user": "audit", "port": 2200, "key": None, "known_hosts": None, "host_key": None, "sudo": False},
    )
    updates = [e for e in _events(engine) if e.action == "inventory.update"]
    assert [(e.object_type, e.object_id) for e in updates] == [
        ("system", "van-phong"),
        ("host", "dvc-web-01"),
    ]
    system_event, host_event = updates
    assert system_event.before is not None and system_event.after is not None
    assert (system_event.before["personal_data_users"], system_event.after["personal_data_users"]) == (
        2500,
        None,
    )
    assert (system_event.before["components"], system_event.after["components"]) == ([], ["mot-cua"])
    assert host_event.before is not None and host_event.after is not None
    assert (host_event.before["ssh_port"], host_event.after["ssh_port"]) == (22, 2200)
    created = [e.object_id for e in _events(engine) if e.action == "inventory.create"]
    assert created[-1] == "mgmt"


def test_dry_run_counts_but_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    _import(engine, PROVINCE)
    before, events = _doc(engine), len(_events(engine))
    change = tmp_path / "change.yaml"
    change.write_text(
        "agencies:\n  - {code: ubnd-tinh, name: UBND}\n  - {code: so-yt, name: Sở Y tế}\n", encoding="utf-8"
    )
    assert _import(engine, change, dry_run=True) == {
        "dry_run": True,
        "files": [str(change)],
        "agencies": _counts(1, 1),
        "systems": _counts(),
        "hosts": _counts(),
        "scopes": _counts(),
    }
    assert _doc(engine) == before and len(_events(engine)) == events


def test_csv_import_with_lists_booleans_and_empty_cells(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "agencies.csv").write_text(
        "code,name,parent\nubnd,UBND tỉnh,\nso-yt,Sở Y tế,ubnd\n", encoding="utf-8-sig"
    )  # Excel writes a BOM
    (tmp_path / "systems-2026.csv").write_text(
        "code,name,owner,function,information,conditional_business_service,national_egov_24x7,"
        "personal_data_users,components,dossier_overview,dossier_security_plan\n"
        "his,Hệ thống thông tin bệnh viện,so-yt,citizen_service,private; personal,yes,0,45000,,CV 1,true\n"
        'lan,"Mạng nội bộ, Sở Y tế",so-yt,infrastructure,,No,FALSE,,his,,\n',
        encoding="utf-8",
    )
    (tmp_path / "hosts.csv").write_text(
        "name,address,system,os,transport,ssh_user,ssh_port,ssh_sudo,ssh_host_key,services\n"
        "his-app,127.20.0.5,his,linux,,secops,2222,1,,22/tcp;8080/TCP\n",
        encoding="utf-8",
    )
    (tmp_path / "mang.csv").write_text("name,cidr,zone,owner\nyt,127.20.0.0/16,,so-yt\n", encoding="utf-8")
    summary = _import(
        engine, tmp_path / "agencies.csv", tmp_path / "systems-2026.csv", tmp_path / "hosts.csv"
    )
    assert [summary[k] for k in ("agencies", "systems", "hosts")] == [_counts(2), _counts(2), _counts(1)]
    assert _import(engine, tmp_path / "mang.csv", kind="scopes")["scopes"] == _counts(1)
    doc = _doc(engine)
    his, lan = doc["systems"]
    assert (
        his["information"],
        his["conditional_business_service"],
        his["national_egov_24x7"],
        his["personal_data_users"],
        his["components"],
        his["dossier"],
    ) == (["private", "personal"], True, False, 45000, [], {"overview": "CV 1", "security_plan": True})
    assert (
        lan["name"],
        lan["information"],
        lan["conditional_business_service"],
        lan["components"],
        lan["dossier"],
    ) == ("Mạng nội bộ, Sở Y tế", [], False, ["his"], {})
    assert doc["hosts"] == [
        {
            "name": "his-app",
            "address": "127.20.0.5",
            "system": "his",
            "os": "linux",
            "zone": None,
            "transport": "ssh",
            "ssh": {
                "user": "secops",
                "port": 2222,
                "key": None,
                "known_hosts": None,
                "host_key": None,
                "sudo": True,
            },
            "services": ["22/tcp", "8080/tcp"],
        }
    ]
    assert doc["scopes"] == [{"name": "yt", "cidr": "127.20.0.0/16", "zone": None, "owner": "so-yt"}]


def test_xlsx_import_one_sheet_per_kind(engine: Engine, tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Agencies"
    sheet.append(["code", "name", "parent"])
    sheet.append(["ubnd", "Ủy ban nhân dân tỉnh", None])
    systems = wb.create_sheet("systems")
    systems.append(
        ["code", "name", "owner", "online_public_service_level", "national_critical_data", "information"]
    )
    systems.append(["cong-dl", "Cổng dữ liệu", "ubnd", 3, True, "public;private"])
    systems.append([None, None, None, None, None, None])  # an empty row is skipped
    systems.append(["kho-dl", "Kho dữ liệu", "ubnd", 0.0, "no", None])
    hosts = wb.create_sheet("hosts")
    hosts.append(["name", "address", "system", "ssh_port", "ssh_sudo", "services"])
    hosts.append(["dl-01", "127.30.0.1", "cong-dl", 22.0, False, "443/tcp"])
    scopes = wb.create_sheet("scopes")
    scopes.append(["name", "cidr", "zone"])
    scopes.append(["dl", "127.30.0.0/24", "dc"])
    path = tmp_path / "tinh.xlsx"
    wb.save(path)
    summary = _import(engine, path)
    assert [summary[k] for k in ("agencies", "systems", "hosts", "scopes")] == [
        _counts(1),
        _counts(2),
        _counts(1),
        _counts(1),
    ]
    doc = _doc(engine)
    cong, kho = doc["systems"]
    assert (cong["online_public_service_level"], cong["national_critical_data"], cong["information"]) == (
        3,
        True,
        ["public", "private"],
    )
    assert (kho["online_public_service_level"], kho["national_critical_data"], kho["information"]) == (
        0,
        False,
        [],
    )
    assert doc["hosts"][0]["ssh"]["port"] == 22 and doc["hosts"][0]["services"] == ["443/tcp"]
    assert doc["scopes"] == [{"name": "dl", "cidr": "127.30.0.0/24", "zone": "dc", "owner": None}]


def test_directory_import_and_cli_json_summary(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("inventory", "import", str(FIXTURES), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "dry_run": False,
        "files": [str(PROVINCE)],
        "agencies": _counts(3),
        "systems": _counts(3),
        "hosts": _counts(3),
        "scopes": _counts(2),
    }
    table = run("inventory", "import", str(PROVINCE), "--dry-run", lang="vi")
    assert table.exit_code == 0 and "Chạy thử" in table.output and "Không đổi" in table.output


def test_host_rows_keep_the_system_link(engine: Engine) -> None:
    _import(engine, PROVINCE)
    with Session(engine) as s:
        portal = s.exec(select(System).where(System.code == "dvc-portal")).one()
        hosts = s.exec(select(Host).where(Host.system_id == portal.id).order_by(Host.name)).all()
        assert [h.name for h in hosts] == ["dvc-db-01", "dvc-web-01"]
