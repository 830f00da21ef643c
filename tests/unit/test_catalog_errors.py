# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""A bad catalog file stops start-up with file, line and reason; user directories extend the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from secops.catalog import clear_cache, load_catalog
from secops.cli import cli
from secops.errors import InputError

GOOD_CHECK = """\
checks:
  - id: custom_motd_present
    title: {vi: "Có thông báo đăng nhập", en: "A login banner exists"}
    severity: low
    platform: linux
    requirements: [ND85-42e]
    facts: [file_stat]
    probe: {fact: file_stat, path: /etc/passwd.owner, equals: root}
    rationale: {vi: "Lý do.", en: "Why."}
    remediation: {vi: "Sửa.", en: "Fix."}
    tests:
      - {expect: pass, facts: {file_stat: "/etc/passwd|644|root|root\\n"}}
      - {expect: fail, facts: {file_stat: "/etc/passwd|644|bin|root\\n"}}
"""


def _user_dir(tmp_path: Path, text: str, sub: str = "linux", name: str = "custom.yaml") -> Path:
    root = tmp_path / "mine"
    (root / sub).mkdir(parents=True, exist_ok=True)
    (root / sub / name).write_text(text, encoding="utf-8")
    clear_cache()
    return root


def _error(tmp_path: Path, text: str, sub: str = "linux") -> str:
    root = _user_dir(tmp_path, text, sub)
    with pytest.raises(InputError) as info:
        load_catalog([root])
    return str(info.value)


def test_user_directory_adds_checks_and_maps_requirements(tmp_path: Path) -> None:
    catalog = load_catalog([_user_dir(tmp_path, GOOD_CHECK)])
    assert "custom_motd_present" in catalog.checks
    assert "custom_motd_present" in catalog.requirements["ND85-42e"].checks
    assert "custom_motd_present" not in load_catalog().checks  # cached per set of directories


def test_bad_severity_names_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD_CHECK.replace("severity: low", "severity: severe"))
    assert re.search(r"mine/linux/custom\.yaml:4: checks\.0\.severity: Input should be 'low'", message)


def test_unknown_operator_names_line(tmp_path: Path) -> None:
    text = GOOD_CHECK.replace("equals: root}", "equal: root}")
    assert "custom.yaml:8: checks.0.probe" in _error(tmp_path, text)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    text = GOOD_CHECK.replace("    severity: low\n", "    severity: [low\n")
    assert re.search(r"custom\.yaml:\d+: invalid YAML", _error(tmp_path, text))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "facts: [file_stat]",
            "facts: [no_such_fact]",
            "custom.yaml:7: check custom_motd_present: unknown fact 'no_such_fact'",
        ),
        (
            "[ND85-42e]",
            "[ND85-999]",
            "custom.yaml:6: check custom_motd_present names unknown requirement 'ND85-999'",
        ),
        (
            "probe: {fact: file_stat,",
            "probe: {fact: passwd,",
            "custom.yaml:8: check custom_motd_present: the probe reads fact 'passwd'",
        ),
        ("equals: root}", "equals: {param: nope}}", "unknown parameter 'nope'"),
        (
            "id: custom_motd_present",
            "id: ssh_root_login_disabled",
            "custom.yaml:2: duplicate check id 'ssh_root_login_disabled' (first defined at",
        ),
        (
            "platform: linux",
            "platform: network",
            "custom.yaml:5: check custom_motd_present is in linux/ but its platform is network",
        ),
        (
            '{expect: fail, facts: {file_stat: "/etc/passwd|644|bin',
            '{expect: pass, facts: {file_stat: "/etc/passwd|644|bin',
            "needs at least one 'pass' and one 'fail' sample",
        ),
    ],
)
def test_cross_validation(tmp_path: Path, old: str, new: str, reason: str) -> None:
    assert old in GOOD_CHECK
    assert reason in _error(tmp_path, GOOD_CHECK.replace(old, new))


def test_framework_naming_unknown_check(tmp_path: Path) -> None:
    text = """\
regime: local
title: {vi: "Quy định nội bộ", en: "Local rules"}
basis: [internal]
groups: {ops: {kind: management, title: {vi: "Vận hành", en: "Operations"}}}
requirements:
  - {id: LOC-1, group: ops, kind: management, title: {vi: "Một", en: "One"}, min_level: 1, source: x, confidence: M, manual: true}
  - {id: LOC-2, group: ops, kind: management, title: {vi: "Hai", en: "Two"}, min_level: 2, source: x, confidence: M, checks: [nope_check]}
"""
    assert "local.yaml:7: requirement LOC-2 names unknown check 'nope_check'" in _error_framework(
        tmp_path, text
    )
    bad_kind = text.replace('kind: management, title: {vi: "Hai"', 'kind: technical, title: {vi: "Hai"')
    assert "local.yaml:7: requirement LOC-2 is technical but group ops is management" in _error_framework(
        tmp_path, bad_kind
    )


def _error_framework(tmp_path: Path, text: str) -> str:
    root = tmp_path / "fw"
    (root / "frameworks").mkdir(parents=True, exist_ok=True)
    (root / "frameworks" / "local.yaml").write_text(text, encoding="utf-8")
    clear_cache()
    with pytest.raises(InputError) as info:
        load_catalog([root])
    return str(info.value)


def test_bad_fact_parser(tmp_path: Path) -> None:
    text = (
        "platform: linux\nfacts:\n  - {id: motd, description: banner, command: cat /etc/motd, parser: yaml}\n"
    )
    assert "custom.yaml:3: fact motd: unknown parser 'yaml'" in _error(tmp_path, text, sub="facts")


def test_cli_reports_bad_catalog_and_failing_sample(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    home.mkdir()
    base = ["--home", str(home), "--db", f"sqlite:///{home / 'x.db'}", "--lang", "en"]
    bad = _user_dir(tmp_path, GOOD_CHECK.replace("severity: low", "severity: huge"))
    result = runner.invoke(cli, [*base, "--catalog", str(bad), "check", "list"])
    assert result.exit_code == 2 and "custom.yaml:4: checks.0.severity" in result.stderr
    wrong = GOOD_CHECK.replace(
        '{expect: fail, facts: {file_stat: "/etc/passwd|644|bin',
        '{expect: pass, facts: {file_stat: "/etc/passwd|644|bin',
    )
    wrong = wrong.replace(
        '      - {expect: pass, facts: {file_stat: "/etc/passwd|644|root|root\\n"}}\n',
        '      - {expect: fail, facts: {file_stat: "/etc/passwd|644|root|root\\n"}}\n',
    )
    mine = _user_dir(tmp_path, wrong)
    result = runner.invoke(cli, [*base, "--catalog", str(mine), "check", "test", "custom_motd_present"])
    assert result.exit_code == 1
    assert "FAIL custom_motd_present [sample 1]: expected fail, got pass" in result.stdout
    assert "0/2 samples of 1 checks passed" in result.stdout
