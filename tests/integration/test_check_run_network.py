"""Network observations are facts: an nmap scan of a host's address feeds the port-policy checks of a
check run, they move the system's score, and a rescore sees exactly what the run saw."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from secops import db
from secops.catalog import load_catalog
from secops.compliance.summary import score_systems
from secops.netscan.demo import previous_scan_file

INVENTORY = """\
agencies:
  - {code: ubnd, name: "UBND tỉnh"}
systems:
  - {code: dvc, name: "Cổng dịch vụ công", owner: ubnd, operator: ubnd, function: citizen_service,
     information: [public, personal], online_public_service_level: 4, personal_data_users: 20000}
hosts:
  - {name: web, address: 127.0.0.1, system: dvc, os: linux, zone: dmz, transport: local, services: [22/tcp]}
scopes:
  - {name: loopback, cidr: 127.0.0.1/32, zone: dmz}
"""


def test_port_policy_checks_come_from_the_latest_scan(run, tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(INVENTORY, encoding="utf-8")
    assert run("inventory", "import", str(inv)).exit_code == 0
    assert run("level", "classify", "--all").exit_code == 0
    # The shipped earlier scan of 127.0.0.1: 22/tcp ssh, 23/tcp telnet and 3306/tcp mysql open.
    imported = run("net", "import", previous_scan_file(), "--scope", "loopback", "--format", "json")
    assert imported.exit_code == 0, imported.output

    result = run("check", "run", "--host", "web", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    network = {r["check"]: r["status"] for r in payload["results"] if r["check"].startswith("net_")}
    assert network["net_cleartext_services_absent"] == "fail"  # telnet
    assert network["net_admin_db_ports_not_exposed"] == "fail"  # 3306 in the DMZ
    assert network["net_ports_declared"] == "fail"  # 23 and 3306 are not declared services
    assert network["net_tls_legacy_absent"] in ("pass", "not_applicable", "skipped")

    # The failing port policy makes its requirements not met, with the check and host named.
    engine = db.make_engine(run.db_url)
    with Session(engine) as session:
        score = score_systems(session, load_catalog(), ["dvc"])[0]
    engine.dispose()
    states = {r.id: r for r in score.requirements}
    assert score.level == 3
    for requirement in ("ND85-40b", "ND85-42c"):
        assert states[requirement].state == "not_met"
        blocking = states[requirement].blocking
        assert {"check": "net_cleartext_services_absent", "host": "web", "status": "fail"} in blocking

    # Rescore re-evaluates the stored observations without touching anything: same network verdicts.
    rescored = run("check", "rescore", str(payload["run_id"]), "--format", "json")
    assert rescored.exit_code in (0, 1), rescored.output
    again = {r["check"]: r["status"] for r in json.loads(rescored.stdout)["results"] if r["check"].startswith("net_")}
    assert again == network


def test_host_list_shows_last_seen_and_open_ports(run, tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(INVENTORY, encoding="utf-8")
    assert run("inventory", "import", str(inv)).exit_code == 0
    assert json.loads(run("host", "list", "--format", "json").stdout)[0]["open_ports"] is None
    assert run("net", "import", previous_scan_file(), "--scope", "loopback").exit_code == 0
    (web,) = json.loads(run("host", "list", "--format", "json").stdout)
    assert web["name"] == "web" and web["last_seen"] is not None
    assert web["open_ports"] == ["22/tcp", "23/tcp", "3306/tcp"]
