"""`system list|show`, `host list|show`, `scope list`: stable JSON keys, exact values, Vietnamese tables."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from secops import db
from secops.inventory import queries
from secops.models import System
from tests.conftest import Cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"


@pytest.fixture
def cli(run: Cli) -> Cli:
    assert run("inventory", "import", str(FIXTURES / "province.yaml")).exit_code == 0
    engine = db.make_engine(run.db_url)
    with db.session_scope(engine) as s:
        portal = s.exec(select(System).where(System.code == "dvc-portal")).one()
        portal.proposed_level, portal.proposed_status = 3, "proposed"
        portal.proposed_reasons = [{"level": 3, "basis": "Art. 9.2.a", "text": "online public service ≥ 3"}]
        portal.approved_level, portal.decision_ref, portal.decision_date = (
            3,
            "QĐ 12/QĐ-UBND",
            date(2026, 5, 4),
        )
        portal.approver = "Chủ tịch UBND tỉnh"
        office = s.exec(select(System).where(System.code == "van-phong")).one()
        office.proposed_status, office.proposed_missing = "undetermined", ["information"]
    engine.dispose()
    return run


def _json(cli: Cli, *args: str) -> object:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_system_list_json(cli: Cli) -> None:
    assert _json(cli, "system", "list") == [
        {
            "code": "dvc-portal",
            "name": "Cổng dịch vụ công trực tuyến",
            "owner": "ubnd-tinh",
            "operator": "trung-tam-cds",
            "proposed_level": 3,
            "status": "approved",
            "approved_level": 3,
            "hosts": 2,
        },
        {
            "code": "mot-cua",
            "name": "Hệ thống thông tin một cửa điện tử",
            "owner": "ubnd-tinh",
            "operator": "trung-tam-cds",
            "proposed_level": None,
            "status": "unclassified",
            "approved_level": None,
            "hosts": 0,
        },
        {
            "code": "van-phong",
            "name": "Hệ thống quản lý văn bản và điều hành",
            "owner": "so-khcn",
            "operator": None,
            "proposed_level": None,
            "status": "undetermined",
            "approved_level": None,
            "hosts": 0,
        },
    ]


def test_system_list_csv_and_vietnamese_table(cli: Cli) -> None:
    csv_out = cli("system", "list", "--format", "csv").output.splitlines()
    assert csv_out[0] == "code,name,owner,operator,proposed_level,status,approved_level,hosts"
    assert csv_out[1] == "dvc-portal,Cổng dịch vụ công trực tuyến,ubnd-tinh,trung-tam-cds,3,approved,3,2"
    table = cli("system", "list", lang="vi", COLUMNS="250").output
    for word in (
        "Hệ thống thông tin",
        "Mã",
        "Chủ quản",
        "Đơn vị vận hành",
        "Cấp độ đề xuất",
        "đã phê duyệt",
        "chưa xác định",
        "chưa phân loại",
    ):
        assert word in table


def test_system_show_json(cli: Cli) -> None:
    shown = _json(cli, "system", "show", "dvc-portal")
    assert isinstance(shown, dict)
    assert list(shown) == [
        "code",
        "name",
        "description",
        "regime",
        "owner",
        "operator",
        "inputs",
        "components",
        "part_of",
        "hosts",
        "status",
        "proposed",
        "approval",
        "procedure",
        "dossier",
    ]
    assert shown["owner"] == {"code": "ubnd-tinh", "name": "Ủy ban nhân dân tỉnh"}
    assert shown["inputs"]["online_public_service_level"] == 4
    assert shown["components"] == [
        {
            "code": "mot-cua",
            "name": "Hệ thống thông tin một cửa điện tử",
            "proposed_level": None,
            "approved_level": None,
            "status": "unclassified",
        }
    ]
    assert [h["name"] for h in shown["hosts"]] == ["dvc-db-01", "dvc-web-01"]
    assert shown["proposed"] == {
        "level": 3,
        "status": "proposed",
        "missing": [],
        "reasons": [{"level": 3, "basis": "Art. 9.2.a", "text": "online public service ≥ 3"}],
    }
    assert shown["approval"] == {
        "level": 3,
        "decision_ref": "QĐ 12/QĐ-UBND",
        "decision_date": "2026-05-04",
        "approver": "Chủ tịch UBND tỉnh",
        "reason": None,
    }
    assert set(shown["procedure"]) == {"available", "appraisal", "approval"}
    by_id = {d["id"]: d for d in shown["dossier"]}
    assert set(by_id) == {"overview", "design", "justification", "security_plan", "infosec_opinion"}
    assert all(set(d) == {"id", "title", "required", "present", "ref"} for d in shown["dossier"])
    assert (by_id["overview"]["present"], by_id["overview"]["ref"]) == (True, "CV 123/TTCDS")
    assert (by_id["security_plan"]["present"], by_id["security_plan"]["ref"]) == (False, None)
    assert _json(cli, "system", "show", "mot-cua")["part_of"] == ["dvc-portal"]  # type: ignore[index]


def test_system_show_table_and_missing_system(cli: Cli) -> None:
    table = cli("system", "show", "dvc-portal", lang="vi", COLUMNS="250")
    assert table.exit_code == 0
    for word in (
        "Cổng dịch vụ công trực tuyến",
        "Chủ quản",
        "Hồ sơ đề xuất cấp độ",
        "QĐ 12/QĐ-UBND",
        "dvc-db-01",
    ):
        assert word in table.output
    missing = cli("system", "show", "nope")
    assert missing.exit_code == 2
    assert missing.stderr == "error: no system with code 'nope' (see `secops system list`)\n"


def test_host_and_scope_views(cli: Cli) -> None:
    assert _json(cli, "host", "list", "--system", "dvc-portal") == [
        {
            "name": "dvc-db-01",
            "address": "127.10.2.10",
            "system": "dvc-portal",
            "os": "linux",
            "zone": "db",
            "transport": "ssh",
            "last_seen": None,
            "open_ports": None,
        },
        {
            "name": "dvc-web-01",
            "address": "127.10.1.10",
            "system": "dvc-portal",
            "os": "linux",
            "zone": "dmz",
            "transport": "ssh",
            "last_seen": None,
            "open_ports": None,
        },
    ]
    assert len(_json(cli, "host", "list")) == 3  # type: ignore[arg-type]
    assert _json(cli, "host", "show", "dvc-web-01") == {
        "name": "dvc-web-01",
        "address": "127.10.1.10",
        "system": "dvc-portal",
        "os": "linux",
        "zone": "dmz",
        "transport": "ssh",
        "system_name": "Cổng dịch vụ công trực tuyến",
        "ssh": {
            "user": "secops",
            "port": 22,
            "key": "~/.ssh/id_ed25519",
            "known_hosts": None,
            "host_key": None,
            "sudo": False,
        },
        "services": ["22/tcp", "443/tcp"],
    }
    assert _json(cli, "scope", "list") == [
        {"name": "db", "cidr": "127.10.2.0/24", "zone": "db", "owner": None},
        {"name": "dmz", "cidr": "127.10.1.0/24", "zone": "dmz", "owner": "trung-tam-cds"},
    ]
    assert cli("host", "show", "ghost").exit_code == 2
    assert "Vùng mạng" in cli("scope", "list", lang="vi", COLUMNS="250").output


def test_queries_for_other_features(cli: Cli) -> None:
    engine = db.make_engine(cli.db_url)
    with db.session_scope(engine) as s:
        assert queries.component_map(s) == {"dvc-portal": ["mot-cua"], "mot-cua": [], "van-phong": []}
        assert [x.code for x in queries.list_systems(s, ["van-phong", "mot-cua"])] == ["van-phong", "mot-cua"]
        assert [x.code for x in queries.components_of(s, queries.get_system(s, "dvc-portal"))] == ["mot-cua"]
        assert queries.get_scope(s, "dmz").cidr == "127.10.1.0/24"
        assert queries.get_agency(s, "so-khcn").name == "Sở Khoa học và Công nghệ"
    engine.dispose()
