"""Loading rule files: validation errors name file, line and reason; a new regime is only a new file."""

from __future__ import annotations

from pathlib import Path

import pytest

from secops.errors import InputError
from secops.levels.engine import SystemData, classify_tree
from secops.levels.rules import available_regimes, load_regime, parse_regime
from secops.resources import data_dir

SHIPPED = data_dir("checks") / "levels" / "decree85.yaml"

NEW_REGIME = """\
regime: nd331
title: {vi: "Nghị định 331/2026/NĐ-CP (thử nghiệm)", en: "Decree 331/2026 (trial)"}
fields:
  function: {type: enum, values: [internal, citizen_service, other]}
  administrative_procedures: {type: bool}
  basic_personal_data_subjects: {type: int, min: 0}
no_rule_note: {vi: "Không có tiêu chí phù hợp.", en: "No criterion applies."}
component_rule:
  basis: {vi: "Điều 5", en: "Art. 5"}
  text: {vi: "Thành phần {component}: cấp độ {level}", en: "Component {component}: level {level}"}
  text_via:
    vi: "Thành phần {component}: cấp độ {level} (qua {via})"
    en: "Component {component}: {level} via {via}"
rules:
  - id: nd331-13.1
    level: 3
    basis: {vi: "Điều 13 khoản 1", en: "Art. 13.1"}
    text: {vi: "Giải quyết thủ tục hành chính.", en: "Handles administrative procedures."}
    when:
      all:
        - {field: function, eq: citizen_service}
        - {field: administrative_procedures, eq: true}
  - id: nd331-13.2
    level: 3
    basis: {vi: "Điều 13 khoản 2", en: "Art. 13.2"}
    text: {vi: "Từ 100.000 chủ thể dữ liệu cá nhân cơ bản.", en: "100,000 or more basic data subjects."}
    when: {field: basic_personal_data_subjects, gte: 100000, when_absent: false}
  - id: nd331-12
    level: 2
    basis: {vi: "Điều 12", en: "Art. 12"}
    text: {vi: "Hệ thống nội bộ.", en: "Internal system."}
    when: {field: function, in: [internal, citizen_service]}
authorities:
  1: &unit
    basis: {vi: "Điều 20", en: "Art. 20"}
    appraisal: {vi: "Đơn vị", en: "Unit"}
    approval: {vi: "Đơn vị", en: "Unit"}
  2: *unit
  3: *unit
  4: *unit
  5: *unit
dossier:
  - id: overview
    basis: {vi: "Điều 21", en: "Art. 21"}
    levels: [1, 2, 3, 4, 5]
    title: {vi: "Mô tả", en: "Overview"}
inspection:
  basis: {vi: "Điều 30", en: "Art. 30"}
  interval_months: {3: 12, 4: 6, 5: 3}
"""


def write_regime(directory: Path, name: str, text: str) -> Path:
    (directory / "levels").mkdir(parents=True, exist_ok=True)
    path = directory / "levels" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_regime_loads() -> None:
    regime = load_regime()
    assert regime.regime == "decree85"
    assert len(regime.rules) == 21
    assert sorted({r.level for r in regime.rules}) == [1, 2, 3, 4, 5]
    assert [regime.inspection_interval(lv) for lv in (None, 1, 2, 3, 4, 5)] == [None, None, None, 12, 12, 6]
    assert [d.id for d, required in regime.dossier_for(3) if required] == [
        "overview", "design", "justification", "security_plan"]
    assert [d.id for d, required in regime.dossier_for(4) if required][-1] == "infosec_opinion"
    assert regime.authority(3) is not None and regime.authority(3).approval.en == "The system owner"
    assert "decree85" in available_regimes()


def test_second_regime_from_a_directory_needs_no_code_change(tmp_path: Path) -> None:
    write_regime(tmp_path, "nd331", NEW_REGIME)
    regime = load_regime("nd331", [tmp_path])
    assert available_regimes([tmp_path]) == ["decree85", "nd331"]
    systems = {
        "tthc": SystemData("tthc", "Một cửa", "nd331", {"function": "citizen_service",
                                                        "administrative_procedures": True}),
        "hr": SystemData("hr", "Nhân sự", "nd331", {"function": "internal"}),
        "new": SystemData("new", "Mới", "nd331", {"function": "citizen_service"}),
    }
    results = classify_tree(systems, {"nd331": regime})
    assert (results["tthc"].proposed_level, [r.rule for r in results["tthc"].reasons]) == (
        3, ["nd331-13.1", "nd331-12"])
    assert results["hr"].proposed_level == 2
    assert (results["new"].proposed_status, results["new"].missing) == ("undetermined",
                                                                       ("administrative_procedures",))
    assert regime.inspection_interval(4) == 6


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("- {field: ics_construction_grade, eq: I}", "- {field: ics_grade, eq: I}",
         "unknown field 'ics_grade'"),
        ("- {field: ics_construction_grade, eq: I}", "- {field: ics_construction_grade, eq: X}",
         "'X' is not a value of 'ics_construction_grade'"),
        ("- {field: personal_data_users, gte: 10000}", "- {field: personal_data_users, contains: x}",
         "operator 'contains' does not apply to int field"),
        ("- {field: personal_data_users, gte: 10000}", "- {field: personal_data_users, gte: many}",
         "Input should be a valid integer"),
        ("- {field: personal_data_users, gte: 10000}", "- {field: personal_data_users, gtee: 10000}",
         "Extra inputs are not permitted"),
        ("- {field: personal_data_users, gte: 10000}", "- {field: personal_data_users}",
         "a leaf needs exactly one operator"),
        ("  - id: d85-10.4\n", "  - id: d85-10.3\n", "duplicate rule id 'd85-10.3'"),
        ('    level: 5\n    basis: {vi: "Điều 11 khoản 5"', '    level: 6\n    basis: {vi: "Điều 11 khoản 5"',
         "Input should be less than or equal to 5"),
    ],
)
def test_bad_rule_file_names_file_line_and_reason(tmp_path: Path, old: str, new: str, reason: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    path = write_regime(tmp_path, "decree85", bad)
    line = text[: text.index(old)].count("\n") + 1  # the error sits on the first line of the change
    with pytest.raises(InputError) as info:
        parse_regime(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert reason in message


def test_missing_english_text_is_located(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    bad = text.replace('      en: "Internal system that processes only public information."\n', "", 1)
    path = write_regime(tmp_path, "decree85", bad)
    with pytest.raises(InputError, match=rf"^{path}:\d+: rules\.0\.text\.en: Field required$") as info:
        parse_regime(path)
    line = int(str(info.value).split(":")[1])
    assert bad.splitlines()[line - 1].strip() == "text:"


def test_invalid_yaml_is_located(tmp_path: Path) -> None:
    path = write_regime(tmp_path, "decree85", "regime: decree85\nrules:\n  - id: [unclosed\n")
    with pytest.raises(InputError, match=rf"^{path}:4: invalid YAML"):
        parse_regime(path)


def test_unknown_regime_and_bad_name() -> None:
    with pytest.raises(InputError, match="unknown legal regime 'nd999'"):
        load_regime("nd999")
    with pytest.raises(InputError, match="invalid regime name"):
        load_regime("../etc/passwd")


def test_regime_name_must_match_file(tmp_path: Path) -> None:
    path = write_regime(tmp_path, "other", NEW_REGIME)
    with pytest.raises(InputError, match=rf"^{path}:1: regime 'nd331' must match the file name"):
        parse_regime(path)


def test_every_cli_message_has_a_vietnamese_translation() -> None:
    import ast

    from secops.i18n import _catalog

    root = Path(__file__).resolve().parents[2]
    ids: set[str] = set()
    for rel in ("secops/cli/level.py", "secops/levels/approval.py", "secops/levels/engine.py"):
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                ids.add(node.args[0].value)
    catalog = _catalog("vi")
    assert len(ids) > 30
    assert sorted(i for i in ids if not catalog.get(i)) == []


def test_docs_list_every_rule() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "levels.md").read_text(encoding="utf-8")
    assert [r.id for r in load_regime().rules if f"`{r.id}`" not in docs] == []
