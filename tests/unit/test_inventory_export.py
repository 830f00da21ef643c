"""Export round-trips with import: import → export → import into a fresh database → export is identical."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, _new_pg_database

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"
TRICKY = """\
agencies:
  - {code: "123", name: "Cơ quan mã số, có dấu phẩy"}
systems:
  - code: ksdl
    name: "Kho \\"dữ liệu\\" dùng chung"
    description: "Dòng một\\nDòng hai; có chấm phẩy"
    owner: "123"
    function: infrastructure
    information: [state_secret]
    state_secret_harm: serious
    infrastructure_scope: multi_province
    ics_construction_grade: special
    national_egov_24x7: true
    regime: decree85
    dossier: {security_plan: true, infosec_opinion: "CV 9/ATTT", overview: "yes"}
hosts:
  - {name: v6-host, address: "0:0:0:0:0:0:0:1", transport: local, os: network, zone: "null",
     ssh: {known_hosts: /etc/secops/known_hosts,
           host_key: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s="},
     services: [161/udp]}
scopes:
  - {name: v6, cidr: "::1/128"}
"""


def _fresh(run: Cli, request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """A second, empty database on the same backend as ``run``."""
    if run.db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = _new_pg_database(request.getfixturevalue("pg_base_url"))
    home = tmp_path / "home-fresh"
    home.mkdir()
    return Cli(url, home)


def _load(run: Cli, tmp_path: Path) -> None:
    extra = tmp_path / "tricky.yaml"
    extra.write_text(TRICKY, encoding="utf-8")
    result = run("inventory", "import", str(FIXTURES / "province.yaml"), str(extra))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_document_round_trip(run: Cli, request: pytest.FixtureRequest, tmp_path: Path, fmt: str) -> None:
    _load(run, tmp_path)
    first = run("inventory", "export", "--format", fmt)
    assert first.exit_code == 0
    parsed = yaml.safe_load(first.output) if fmt == "yaml" else json.loads(first.output)
    tricky = next(s for s in parsed["systems"] if s["code"] == "ksdl")
    assert (tricky["owner"], tricky["description"], tricky["dossier"]) == (
        "123",
        "Dòng một\nDòng hai; có chấm phẩy",
        {"overview": "yes", "security_plan": True, "infosec_opinion": "CV 9/ATTT"},
    )
    v6 = next(h for h in parsed["hosts"] if h["name"] == "v6-host")
    assert (v6["address"], v6["zone"], v6["ssh"]["host_key"]) == (
        "::1",
        "null",
        "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    )

    out = tmp_path / f"inventory.{fmt}"
    assert run("inventory", "export", "--format", fmt, "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == first.output
    fresh = _fresh(run, request, tmp_path)
    assert fresh("inventory", "import", str(out)).exit_code == 0
    assert fresh("inventory", "export", "--format", fmt).output == first.output


def test_csv_round_trip(run: Cli, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _load(run, tmp_path)
    first = tmp_path / "first"
    result = run("inventory", "export", "--format", "csv", "--out", str(first))
    assert result.exit_code == 0 and result.stdout == ""
    assert sorted(p.name for p in first.iterdir()) == [
        "agencies.csv",
        "hosts.csv",
        "scopes.csv",
        "systems.csv",
    ]
    assert (first / "scopes.csv").read_text(encoding="utf-8") == (
        "name,cidr,zone,owner\ndb,127.10.2.0/24,db,\ndmz,127.10.1.0/24,dmz,trung-tam-cds\nv6,::1/128,,\n"
    )
    fresh = _fresh(run, request, tmp_path)
    assert fresh("inventory", "import", str(first)).exit_code == 0
    second = tmp_path / "second"
    assert fresh("inventory", "export", "--format", "csv", "--out", str(second)).exit_code == 0
    for name in ("agencies.csv", "systems.csv", "hosts.csv", "scopes.csv"):
        assert (second / name).read_bytes() == (first / name).read_bytes(), name
    # The CSV copy holds the same inventory as the original database.
    assert fresh("inventory", "export", "--format", "yaml").output == run("inventory", "export").output


def test_csv_export_needs_a_directory(run: Cli) -> None:
    result = run("inventory", "export", "--format", "csv")
    assert result.exit_code == 2
    assert result.stderr == "error: --format csv writes one file per kind: give a directory with --out\n"
