"""Playbooks and deadline rules are data: shipped files validate; bad ones name FILE:LINE and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secops.errors import InputError
from secops.incidents import deadlines, playbooks
from secops.incidents.vocab import CATEGORIES, parse_duration
from secops.resources import data_dir

CONTRACT_IDS = {
    "ransomware",
    "malware",
    "defacement",
    "ddos",
    "phishing",
    "intrusion",
    "data_leak",
    "exploited_vulnerability",
}


def test_every_shipped_playbook_validates() -> None:
    books = playbooks.load_all()
    assert set(books) >= CONTRACT_IDS
    for book in books.values():
        step_ids = [s.id for _p, s in book.steps()]
        assert "notify_coordinator" in step_ids, book.id
        assert "final_report" in step_ids, book.id
        for _phase, step in book.steps():
            assert step.title.vi != step.title.en
    covered = {c for b in books.values() for c in b.categories}
    assert covered == set(CATEGORIES)  # every Form 05 type has a playbook


def test_ransomware_playbook_shape() -> None:
    book = playbooks.get_playbook("ransomware")
    assert [p.id for p in book.phases] == ["triage", "containment", "eradication", "recovery", "closure"]
    steps = dict((s.id, s) for _p, s in book.steps())
    assert steps["isolate_hosts"].due is not None and steps["isolate_hosts"].due.after == "containment"
    assert steps["isolate_hosts"].due.minutes == 60
    assert steps["personal_data_notice"].when is not None
    assert steps["personal_data_notice"].when.flags == ["personal_data"]
    assert steps["confirm_encryption"].evidence
    assert steps["lessons_learned"].mandatory is False


GOOD = """\
id: sample
title: {vi: Mẫu, en: Sample}
categories: [malware]
phases:
  - id: triage
    steps:
      - id: first
        title: {vi: Bước một, en: Step one}
        owner: analyst
"""


def _write(tmp_path: Path, text: str, name: str = "sample.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_playbook_loads(tmp_path: Path) -> None:
    book = playbooks.load_playbook(_write(tmp_path, GOOD))
    assert book.id == "sample" and [s.id for _p, s in book.steps()] == ["first"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("owner: analyst", "owner: janitor"),
            "sample.yaml:9: phases.0.steps.0.owner: Value error, unknown owner role 'janitor'",
        ),
        (
            ("owner: analyst", "owner: analyst\n        due: {after: triage, offset: soon}"),
            "sample.yaml:10: phases.0.steps.0.due.offset: Value error, not a duration",
        ),
        (
            ("categories: [malware]", "categories: [weather]"),
            "sample.yaml:3: categories: Value error, unknown category 'weather'",
        ),
        (("- id: triage", "- id: cleanup"), "sample.yaml:5: phases.0.id: Input should be"),
        (
            ("owner: analyst", "owner: analyst\n        when: {flags: [sunny]}"),
            "sample.yaml:10: phases.0.steps.0.when.flags: Value error, unknown flag 'sunny'",
        ),
        (
            ("owner: analyst", "owner: analyst\n        colour: red"),
            "sample.yaml:10: phases.0.steps.0.colour: Extra inputs",
        ),
        (("title: {vi: Mẫu, en: Sample}", "title: {vi: Mẫu, en: Sample"), "sample.yaml:3: invalid YAML"),
    ],
)
def test_bad_playbooks_name_file_line_and_reason(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as err:
        playbooks.load_playbook(path)
    assert str(err.value).startswith(str(tmp_path / expected.split(":")[0]))
    assert expected in str(err.value)


def test_duplicate_step_ids_and_file_name_mismatch(tmp_path: Path) -> None:
    dup = GOOD + "      - id: first\n        title: {vi: Lại, en: Again}\n        owner: analyst\n"
    with pytest.raises(InputError, match="duplicate step id 'first'"):
        playbooks.load_playbook(_write(tmp_path, dup))
    with pytest.raises(InputError, match=r"other.yaml:1: id 'sample' must match the file name 'other'"):
        playbooks.load_playbook(_write(tmp_path, GOOD, "other.yaml"))


def test_playbook_validate_command(tmp_path: Path) -> None:
    from secops.cli import cli

    bad = _write(tmp_path, GOOD.replace("owner: analyst", "owner: nobody"))
    runner = CliRunner()
    base = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--home", str(tmp_path), "--lang", "en"]
    result = runner.invoke(cli, [*base, "playbook", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"error: {bad}:9: phases.0.steps.0.owner" in result.output
    ok = runner.invoke(cli, [*base, "playbook", "validate"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count(": ok (") == len(list(data_dir("playbooks").glob("*.yaml")))


def test_deadline_rules_validate_and_name_the_line(tmp_path: Path) -> None:
    rules = deadlines.load_rules()
    assert [r.kind for r in rules.deadlines] == ["notification", "form03", "form04", "personal_data"]
    assert {r.kind: parse_duration(r.offset) for r in rules.deadlines} == {
        "notification": 5 * 1440,
        "form03": 0,
        "form04": 5 * 1440,
        "personal_data": 72 * 60,
    }
    text = deadlines.rules_path().read_text(encoding="utf-8").replace("trigger: closed", "trigger: lunchtime")
    path = _write(tmp_path, text, "rules.yaml")
    line = text.splitlines().index("    trigger: lunchtime") + 1
    with pytest.raises(
        InputError, match=rf"rules.yaml:{line}: deadlines.2.trigger: Value error, unknown trigger"
    ):
        deadlines.load_rules(path)


def test_default_playbook_per_category() -> None:
    chosen = {c: (b.id if (b := playbooks.default_for(c)) else None) for c in CATEGORIES}
    assert chosen == {
        "dos": "ddos",
        "phishing": "phishing",
        "malware": "malware",
        "unauthorized_access": "intrusion",
        "defacement": "defacement",
        "ransomware": "ransomware",
        "destruction": "intrusion",
        "data_theft": "data_leak",
        "combined": "malware",
        "other": "exploited_vulnerability",
    }
