"""The shipped catalog: contract ids, requirement rows, cross-references, and the CLI listing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from secops.catalog import load_catalog
from secops.cli import cli

CONTRACT = {
    "ssh_root_login_disabled", "ssh_password_auth_disabled", "ssh_empty_passwords_disabled",
    "ssh_max_auth_tries_limited", "passwd_file_permissions", "shadow_file_permissions", "password_min_length",
    "firewall_active", "auditd_running", "telnet_server_absent", "time_sync_active", "uid0_only_root",
}  # fmt: skip


def test_contract_checks_and_size() -> None:
    catalog = load_catalog()
    assert set(catalog.checks) >= CONTRACT
    linux = catalog.checks_for("linux")
    assert len(linux) >= 40
    for check in linux:
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", check.id)
        assert check.title.vi != check.title.en and check.remediation.vi and check.rationale.vi


def test_every_row_of_the_requirement_table_is_present() -> None:
    catalog = load_catalog()
    rows = {int(m.group()) for r in catalog.requirements.values() if r.row and (m := re.match(r"\d+", r.row))}
    assert set(range(1, 54)) <= rows
    reqs = catalog.requirements
    assert reqs["ND85-16"].min_level == 1 and "password_min_length" in reqs["ND85-16"].checks
    assert reqs["ND85-38"].confidence == "S" and reqs["ND85-38"].min_level == 3  # correction §4 row 38
    assert reqs["ND85-41a"].min_level == 3 and reqs["ND85-41a"].likely_from_level == 2  # correction row 41
    assert reqs["ND85-49"].min_level == 4 and "4 or 5" in (reqs["ND85-49"].note or "")
    assert reqs["ND85-17"].manual and not reqs["ND85-17"].checks
    assert not reqs["ND85-04"].scored
    assert {r.kind for r in reqs.values()} == {"management", "technical"}


def test_mapping_is_consistent_both_ways() -> None:
    catalog = load_catalog()
    for req in catalog.requirements.values():
        for cid in req.checks:
            assert req.id in catalog.checks[cid].requirements
    for check in catalog.checks.values():
        for rid in check.requirements:
            assert check.id in catalog.requirements[rid].checks
        for fact in check.facts:
            assert fact in catalog.fact_defs


def test_requirements_for_level_are_cumulative() -> None:
    catalog = load_catalog()
    counts = [len(catalog.requirements_for(level)) for level in range(1, 6)]
    assert counts == sorted(counts) and counts[0] < counts[2] < counts[4]
    assert {r.id for r in catalog.requirements_for(2)} <= {r.id for r in catalog.requirements_for(3)}
    assert all(r.min_level <= 2 for r in catalog.requirements_for(2))


def test_fact_specs_are_fixed_commands() -> None:
    catalog = load_catalog()
    specs = catalog.fact_specs()
    assert [s.id for s in specs] == sorted(catalog.facts)
    assert catalog.facts["shadow"].root and catalog.facts["sshd_config"].root
    assert not catalog.facts["passwd"].root
    assert "awk" in catalog.facts["shadow"].command  # hashes are redacted on the host


def _cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    argv = ["--home", str(home), "--db", f"sqlite:///{home / 'x.db'}", "--lang", "en", *args]
    result = runner.invoke(cli, argv, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_check_list_json_filters(tmp_path: Path) -> None:
    code, out, _ = _cli(tmp_path, "check", "list", "--requirement", "ND85-33a", "--format", "json")
    assert code == 0
    assert [row["id"] for row in json.loads(out)] == ["firewall_active", "firewall_default_deny_input"]
    code, out, _ = _cli(tmp_path, "check", "list", "--level", "2", "--format", "json")
    ids = {row["id"] for row in json.loads(out)}
    assert "password_min_length" in ids and "logging_remote_forwarding_configured" not in ids
    code, out, _ = _cli(tmp_path, "check", "list", "--requirements", "--level", "1", "--format", "json")
    rows = json.loads(out)
    assert all(r["min_level"] == 1 for r in rows) and "ND85-01" in {r["id"] for r in rows}


def test_check_list_unknown_requirement(tmp_path: Path) -> None:
    code, _, err = _cli(tmp_path, "check", "list", "--requirement", "ND85-99")
    assert code == 2 and "unknown requirement ND85-99" in err


def test_check_test_runs_all_samples(tmp_path: Path) -> None:
    code, out, _ = _cli(tmp_path, "check", "test")
    assert code == 0
    match = re.search(r"(\d+)/(\d+) samples of (\d+) checks passed in (\d+) ms", out)
    assert match is not None and match.group(1) == match.group(2)
    assert int(match.group(3)) == len(load_catalog().checks)
    code, out, _ = _cli(tmp_path, "check", "test", "uid0_only_root", "--format", "json")
    assert code == 0 and {r["status"] for r in json.loads(out)} == {"pass", "fail", "error"}


def test_framework_rules_are_not_scored() -> None:
    """ND85-02 (highest level wins) and ND85-04 (cumulative levels) are rules secops applies, not evidence."""
    from secops.catalog import load_catalog

    ids = {r.id for r in load_catalog().scored_requirements("decree85")}
    assert "ND85-02" not in ids and "ND85-04" not in ids
    assert "ND85-16" in ids
