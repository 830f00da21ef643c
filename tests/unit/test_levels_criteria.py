"""Every criterion of Decree 85 Art. 7–11: a case that meets it and a near miss that does not; undetermined
inputs; the components rule (Art. 5.2). Pure engine over the shipped rule file, no database."""

from __future__ import annotations

from typing import Any

import pytest

from secops.errors import InvalidStateError
from secops.i18n import current_language, set_language
from secops.levels.engine import Classification, SystemData, classify_tree
from secops.levels.rules import load_regime

REGIME = load_regime("decree85")
CITIZEN: dict[str, Any] = {"function": "citizen_service", "information": ["public", "personal"],
                           "online_public_service_level": 2, "conditional_business_service": False,
                           "personal_data_users": 500}
INTERNAL: dict[str, Any] = {"function": "internal", "information": ["private", "personal"]}
PERSONAL: dict[str, Any] = {"function": "citizen_service", "information": ["personal"]}


def infra(scope: str) -> dict[str, Any]:
    return {"function": "infrastructure", "information": ["private"], "infrastructure_scope": scope}


def ics(grade: str) -> dict[str, Any]:
    return {"function": "industrial_control", "information": ["private"], "ics_construction_grade": grade}


def classify(inputs: dict[str, Any]) -> Classification:
    return classify_tree({"x": SystemData("x", "X", "decree85", inputs)}, {"decree85": REGIME})["x"]


def rules_of(result: Classification) -> set[str]:
    return {r.rule for r in result.reasons}


CASES = [
    # (criterion, inputs, expected level)  -- meets, then near miss
    ("d85-7", {"function": "internal", "information": ["public"]}, 1),
    (None, {"function": "internal", "information": ["public", "personal"]}, 2),
    ("d85-8.1", INTERNAL, 2),
    (None, {**INTERNAL, "information": ["private", "state_secret"], "state_secret_harm": "harm"}, 3),
    ("d85-8.2a", {**CITIZEN, "online_public_service_level": 2}, 2),
    ("d85-8.2a", {**CITIZEN, "online_public_service_level": 1}, 2),
    ("d85-8.2a", {**CITIZEN, "online_public_service_level": 0}, 2),
    (None, {**CITIZEN, "online_public_service_level": 3}, 3),
    ("d85-8.2b", {**CITIZEN, "conditional_business_service": False}, 2),
    (None, {**CITIZEN, "conditional_business_service": True}, 3),
    ("d85-8.2c", {**CITIZEN, "personal_data_users": 9_999}, 2),
    (None, {**CITIZEN, "personal_data_users": 10_000}, 3),
    ("d85-8.3", infra("organization"), 2),
    (None, infra("sector"), 3),
    ("d85-9.1", {**INTERNAL, "information": ["private", "state_secret"], "state_secret_harm": "harm"}, 3),
    ("d85-9.1", {"function": "other", "information": ["private"], "state_secret_harm": "harm"}, 3),
    (None, {**INTERNAL, "information": ["private", "state_secret"], "state_secret_harm": "serious"}, 4),
    ("d85-9.2a", {**CITIZEN, "online_public_service_level": 3}, 3),
    ("d85-9.2a", {**CITIZEN, "online_public_service_level": 4}, 3),
    (None, {**CITIZEN, "online_public_service_level": 2}, 2),
    ("d85-9.2b", {**CITIZEN, "conditional_business_service": True}, 3),
    (None, {**CITIZEN, "conditional_business_service": False}, 2),
    ("d85-9.2c", {**CITIZEN, "personal_data_users": 10_000}, 3),
    (None, {**CITIZEN, "personal_data_users": 9_999}, 2),
    ("d85-9.3", infra("sector"), 3),
    ("d85-9.3", infra("province"), 3),
    ("d85-9.3", infra("multi_province"), 3),
    (None, infra("organization"), 2),
    ("d85-9.4", ics("IV"), 3),
    ("d85-9.4", ics("III"), 3),
    ("d85-9.4", ics("II"), 3),
    (None, ics("I"), 4),
    ("d85-10.1", {**INTERNAL, "information": ["state_secret"], "state_secret_harm": "serious"}, 4),
    (None, {**INTERNAL, "information": ["state_secret"], "state_secret_harm": "harm"}, 3),
    ("d85-10.2", {**INTERNAL, "national_egov_24x7": True}, 4),
    (None, {**INTERNAL, "national_egov_24x7": False}, 2),
    ("d85-10.3", infra("national"), 4),
    (None, infra("multi_province"), 3),
    ("d85-10.4", ics("I"), 4),
    (None, ics("II"), 3),
    ("d85-11.1", {**INTERNAL, "information": ["state_secret"], "state_secret_harm": "especially_serious"}, 5),
    (None, {**INTERNAL, "information": ["state_secret"], "state_secret_harm": "serious"}, 4),
    ("d85-11.2", {**INTERNAL, "national_critical_data": True}, 5),
    (None, {**INTERNAL, "national_critical_data": False}, 2),
    ("d85-11.3", infra("international"), 5),
    (None, infra("national"), 4),
    ("d85-11.4", ics("special"), 5),
    (None, ics("I"), 4),
    ("d85-11.5", {**INTERNAL, "designated_level_5": True}, 5),
    (None, {**INTERNAL, "designated_level_5": False}, 2),
]


@pytest.mark.parametrize(("criterion", "inputs", "level"), CASES)
def test_level_of_each_case(criterion: str | None, inputs: dict[str, Any], level: int) -> None:
    result = classify(inputs)
    assert (result.proposed_level, result.proposed_status, result.missing) == (level, "proposed", ())
    assert result.reasons[0].level == level
    if criterion is not None:
        assert criterion in rules_of(result)


@pytest.mark.parametrize(
    ("meets", "misses", "rule"),
    [
        ({**CITIZEN, "personal_data_users": 10_000}, {**CITIZEN, "personal_data_users": 9_999}, "d85-9.2c"),
        ({**CITIZEN, "online_public_service_level": 3}, {**CITIZEN, "online_public_service_level": 2},
         "d85-9.2a"),
        (ics("I"),
         ics("II"), "d85-10.4"),
        ({**INTERNAL, "information": ["state_secret"], "state_secret_harm": "serious"},
         {**INTERNAL, "information": ["state_secret"], "state_secret_harm": "harm"}, "d85-10.1"),
        ({"function": "internal", "information": ["public"]},
         {"function": "internal", "information": ["public", "private"]}, "d85-7"),
        ({**INTERNAL}, {**INTERNAL, "information": ["private", "state_secret"], "state_secret_harm": "harm"},
         "d85-8.1"),
    ],
)
def test_near_miss_does_not_match(meets: dict[str, Any], misses: dict[str, Any], rule: str) -> None:
    assert rule in rules_of(classify(meets))
    assert rule not in rules_of(classify(misses))


def test_every_rule_is_covered_by_a_case() -> None:
    covered = {c for c, _, _ in CASES if c}
    assert covered == {r.id for r in REGIME.rules}


def test_reasons_list_every_matched_rule_highest_first() -> None:
    result = classify({**CITIZEN, "online_public_service_level": 4, "conditional_business_service": True,
                       "personal_data_users": 120_000})
    assert [(r.level, r.rule) for r in result.reasons] == [(3, "d85-9.2a"), (3, "d85-9.2b"), (3, "d85-9.2c")]
    view = result.to_json("vi")["reasons"][0]
    assert view == {"level": 3, "basis": "Điều 9 khoản 2 điểm a",
                    "text": "Hệ thống phục vụ người dân, doanh nghiệp cung cấp dịch vụ công trực tuyến "
                            "từ mức độ 3 trở lên."}
    assert result.to_json("en")["reasons"][0]["basis"] == "Art. 9.2(a)"


@pytest.mark.parametrize(
    ("inputs", "minimum", "missing"),
    [
        ({**INTERNAL, "information": ["private", "state_secret"]}, None, ("state_secret_harm",)),
        ({"information": ["public"]}, None, ("function",)),
        ({"function": "citizen_service"}, 2, ("information", "conditional_business_service",
                                              "personal_data_users")),
        (PERSONAL, 2,
         ("conditional_business_service", "personal_data_users")),
        ({**PERSONAL, "online_public_service_level": 2, "conditional_business_service": False},
         2, ("personal_data_users",)),
        ({"function": "other", "information": ["personal"]}, None, ("function",)),
        ({"function": "infrastructure", "information": ["private"]}, None, ("infrastructure_scope",)),
        ({"function": "industrial_control", "information": ["private"]}, None, ("ics_construction_grade",)),
        ({"function": "internal", "information": []}, None, ("information",)),
        ({**infra("organization"), "information": ["state_secret"]},
         2, ("state_secret_harm",)),
    ],
)
def test_undetermined_names_the_missing_fields(inputs: dict[str, Any], minimum: int | None,
                                               missing: tuple[str, ...]) -> None:
    result = classify(inputs)
    assert (result.proposed_level, result.proposed_status, result.minimum_level, result.missing) == (
        None, "undetermined", minimum, missing)
    assert result.to_json()["status"] == "undetermined"


def test_function_other_without_a_rule_gets_a_note() -> None:
    result = classify({"function": "other", "information": ["personal"]})
    assert result.note is not None and result.to_json("en")["note"].startswith("No criterion of Art. 7–11")


@pytest.mark.parametrize(
    ("inputs", "level"),
    [
        # Missing inputs that could only confirm a level already reached do not block the proposal.
        ({**PERSONAL, "online_public_service_level": 4}, 3),
        ({**PERSONAL, "conditional_business_service": True}, 3),
        ({"function": "other", "information": ["personal"], "national_egov_24x7": True}, 4),
        ({"function": "internal", "information": ["private"], "national_critical_data": True}, 5),
    ],
)
def test_missing_inputs_that_cannot_raise_the_level_are_not_needed(inputs: dict[str, Any],
                                                                    level: int) -> None:
    result = classify(inputs)
    assert (result.proposed_level, result.proposed_status, result.missing) == (level, "proposed", ())


def tree(**systems: tuple[dict[str, Any], tuple[str, ...]] | tuple[dict[str, Any], tuple[str, ...], int]
         ) -> dict[str, Classification]:
    data = {code: SystemData(code, code.upper(), "decree85", spec[0], spec[1],
                             spec[2] if len(spec) > 2 else None)
            for code, spec in systems.items()}
    return classify_tree(data, {"decree85": REGIME})


LEVEL1 = {"function": "internal", "information": ["public"]}


def test_system_takes_highest_level_of_its_components() -> None:
    results = tree(portal=(LEVEL1, ("dvc",)), dvc=({**CITIZEN, "online_public_service_level": 4}, ()))
    result = results["portal"]
    assert (result.proposed_level, result.proposed_status) == (3, "proposed")
    top = result.reasons[0]
    assert (top.level, top.rule, top.component, dict(top.basis)) == (
        3, "component:dvc", "dvc", {"vi": "Điều 5 khoản 2", "en": "Art. 5.2"})
    assert top.text["en"] == ("Component system dvc is at level 3; "
                              "a system takes the highest level of its components.")
    assert [r.rule for r in result.reasons] == ["component:dvc", "d85-7"]


def test_nested_components_say_which_component_through_which() -> None:
    results = tree(a=(LEVEL1, ("b",)), b=(LEVEL1, ("c",)),
                   c=(ics("I"), ()))
    assert [results[c].proposed_level for c in "abc"] == [4, 4, 4]
    assert results["a"].reasons[0].text["vi"] == (
        "Hệ thống thành phần b có cấp độ 4 (qua c); "
        "hệ thống lấy cấp độ cao nhất của các hệ thống thành phần.")
    assert results["b"].reasons[0].text["en"].startswith("Component system c is at level 4;")


def test_component_lower_than_system_does_not_lower_it() -> None:
    result = tree(p=({**CITIZEN, "online_public_service_level": 3}, ("q",)), q=(LEVEL1, ()))["p"]
    assert result.proposed_level == 3
    assert [(r.level, r.rule) for r in result.reasons] == [(3, "d85-9.2a"), (2, "d85-8.2b"), (2, "d85-8.2c"),
                                                          (1, "component:q")]


def test_undetermined_component_makes_system_undetermined_with_prefixed_fields() -> None:
    secret = {"function": "internal", "information": ["state_secret"]}
    result = tree(p=(INTERNAL, ("s",)), s=(secret, ()))["p"]
    assert (result.proposed_level, result.proposed_status, result.minimum_level, result.missing) == (
        None, "undetermined", 2, ("s.state_secret_harm",))


def test_undetermined_component_that_cannot_exceed_the_system_does_not_block() -> None:
    half = {**PERSONAL, "online_public_service_level": 2, "conditional_business_service": False}
    results = tree(p=({**CITIZEN, "online_public_service_level": 4}, ("h",)), h=(half, ()))
    assert results["h"].proposed_status == "undetermined"
    parent = results["p"]
    assert (parent.proposed_level, parent.proposed_status, parent.missing) == (3, "proposed", ())


def test_approved_component_counts_with_its_approved_level() -> None:
    results = tree(p=(LEVEL1, ("q",)), q=(INTERNAL, (), 4))
    assert results["p"].proposed_level == 4
    assert results["p"].reasons[0].text["en"].startswith("Component system q is at level 4;")


def test_component_cycle_is_an_error() -> None:
    before = current_language()
    try:
        set_language("en")
        with pytest.raises(InvalidStateError, match=r"^component cycle: a → b → a$"):
            tree(a=(LEVEL1, ("b",)), b=(LEVEL1, ("a",)))
        set_language("vi")
        vi = r"^các hệ thống thành phần tạo thành vòng lặp: a → b → a$"
        with pytest.raises(InvalidStateError, match=vi):
            tree(a=(LEVEL1, ("b",)), b=(LEVEL1, ("a",)))
    finally:
        set_language(before)
