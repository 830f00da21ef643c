"""The probe engine: operators, combinators, list quantifiers, parameters, unavailable facts, escape hatch."""

from __future__ import annotations

from typing import Any

import pytest

from secops.catalog import Check, load_catalog
from secops.collect.bundle import RawFact
from secops.probes import FUNCTIONS, FactUnavailable, Outcome, Verdict, evaluate, parse_fact, register, select


def make_check(probe: dict[str, Any], facts: list[str], **extra: Any) -> Check:
    data = {
        "id": "test_probe_check",
        "title": {"vi": "Kiểm tra thử", "en": "Test check"},
        "severity": "low",
        "platform": "network",
        "requirements": ["ND85-33"],
        "facts": facts,
        "probe": probe,
        "rationale": {"vi": "Lý do.", "en": "Why."},
        "remediation": {"vi": "Sửa.", "en": "Fix."},
        "tests": [{"expect": "pass"}, {"expect": "fail"}],
        **extra,
    }
    return Check.model_validate(data)


PORTS = [
    {"port": 22, "protocol": "tcp", "service": "ssh", "product": "OpenSSH", "version": "9.2p1", "tls": None},
    {
        "port": 443,
        "protocol": "tcp",
        "service": "https",
        "product": "nginx",
        "version": "1.22",
        "tls": "TLSv1.3",
    },
    {"port": 23, "protocol": "tcp", "service": "telnet", "product": None, "version": None, "tls": None},
]
NET = {"open_ports": PORTS, "declared": ["22/tcp", "443/tcp"], "zone": "dmz"}


def run(probe: dict[str, Any], facts: dict[str, Any] | None = None, **context: Any) -> Outcome:
    facts = NET if facts is None else facts
    return evaluate(make_check(probe, list(facts)), facts, {"level": 3, "zone": "dmz", **context})


def test_select_paths() -> None:
    data = {"a": {"b": [1, 2, 3]}, "net.ipv4.ip_forward": "0", "/etc/passwd": {"mode": "644"}}
    assert select(data, "a.b.#") == 3
    assert select(data, "a.b.1") == 2
    assert select(data, "net.ipv4.ip_forward") == "0"
    assert select(data, "/etc/passwd.mode") == "644"
    assert select({"p": PORTS}, "p.*.port") == [22, 443, 23]
    assert repr(select(data, "a.c")) == "(not set)"


def test_no_item_reports_the_offending_element() -> None:
    out = run({"fact": "open_ports", "show": "port", "no_item": {"path": "service", "in": ["telnet", "ftp"]}})
    assert out.status == "fail"
    assert out.observed == "open_ports: items matching: 23"
    assert out.expected == 'open_ports has no item where service in ["telnet", "ftp"]'


def test_any_item_and_all_items() -> None:
    assert (
        run({"fact": "open_ports", "any_item": {"path": "tls", "regex": "^TLSv1\\.[23]$"}}).status == "pass"
    )
    out = run({"fact": "open_ports", "show": "port", "all_items": {"path": "port", "lt": 100}})
    assert (out.status, out.observed) == ("fail", "open_ports: items not matching: 443")


def test_set_difference_against_another_fact() -> None:
    probe = {"fact": "open_ports", "path": "*.port", "subset_of": [22, 443]}
    out = run(probe)
    assert (out.status, out.observed) == ("fail", "open_ports.*.port: not allowed: [23]")
    facts = {"ports": ["22/tcp", "443/tcp"], "declared": ["22/tcp", "443/tcp", "8443/tcp"]}
    assert run({"fact": "ports", "subset_of": {"fact": "declared"}}, facts).status == "pass"


def test_numeric_comparisons_and_text_numbers() -> None:
    facts = {"cfg": {"maxauthtries": "6", "name": "abc"}}
    assert run({"fact": "cfg", "path": "maxauthtries", "le": 6, "gt": 5}, facts).status == "pass"
    assert (
        run({"fact": "cfg", "path": "maxauthtries", "le": 4}, facts).detail == "cfg.maxauthtries ≤ 4 (got 6)"
    )
    out = run({"fact": "cfg", "path": "name", "ge": 1}, facts)
    assert (out.status, out.detail) == ("error", "not a number: abc")


def test_equality_is_case_insensitive_and_numeric() -> None:
    facts = {"cfg": {"loglevel": "INFO", "forward": "0"}}
    assert run({"fact": "cfg", "path": "loglevel", "equals": "info"}, facts).status == "pass"
    assert run({"fact": "cfg", "path": "forward", "equals": 0}, facts).status == "pass"
    assert run({"fact": "cfg", "path": "forward", "in": ["1", "2"]}, facts).status == "fail"


def test_missing_values_and_defaults() -> None:
    facts = {"cfg": {}}
    assert run({"fact": "cfg", "path": "x", "equals": "a"}, facts).status == "fail"
    assert run({"fact": "cfg", "path": "x", "not_equals": "a"}, facts).status == "pass"
    assert run({"fact": "cfg", "path": "x", "exists": False}, facts).status == "pass"
    assert run({"fact": "cfg", "path": "x", "default": "99999", "le": 90}, facts).status == "fail"


def test_combinators() -> None:
    facts = {"cfg": {"a": "1", "b": "2"}}
    one, two = {"fact": "cfg", "path": "a", "eq": 1}, {"fact": "cfg", "path": "b", "eq": 3}
    assert run({"all": [one, two]}, facts).status == "fail"
    assert run({"any": [one, two]}, facts).status == "pass"
    assert run({"none": [two]}, facts).status == "pass"
    assert run({"not": one}, facts).status == "fail"
    out = run({"all": [one, two]}, facts)
    assert out.expected == "(cfg.a == 1 and cfg.b == 3)" and out.detail == "cfg.b == 3 (got 2)"


def test_mode_within() -> None:
    facts = {"st": {"/etc/shadow": {"mode": "640"}}}
    assert run({"fact": "st", "path": "/etc/shadow.mode", "mode_within": "640"}, facts).status == "pass"
    assert run({"fact": "st", "path": "/etc/shadow.mode", "mode_within": "600"}, facts).status == "fail"


def test_applies_to_level_zone_and_when() -> None:
    check = make_check(
        {"fact": "cfg", "path": "a", "eq": 1}, ["cfg"], applies_to={"min_level": 3, "zones": ["dmz"]}
    )
    facts = {"cfg": {"a": "1"}}
    assert (
        evaluate(check, facts, {"level": 2, "zone": "dmz"}).detail
        == "applies from level 3; the system is level 2"
    )
    assert evaluate(check, facts, {"level": 3, "zone": "internal"}).status == "not_applicable"
    assert evaluate(check, facts, {"level": 3, "zone": "dmz"}).status == "pass"
    gated = make_check(
        {"fact": "cfg", "path": "a", "eq": 1},
        ["cfg"],
        applies_to={"when": {"fact": "cfg", "path": "installed", "exists": True}},
    )
    assert evaluate(gated, facts, {"level": 1}).status == "not_applicable"


def test_params_by_level_and_override() -> None:
    check = make_check(
        {"fact": "cfg", "path": "days", "ge": {"param": "min_days"}},
        ["cfg"],
        params={"min_days": {"default": 30, "by_level": {3: 90, 5: 365}}},
    )
    facts = {"cfg": {"days": "100"}}
    assert evaluate(check, facts, {"level": 2}).status == "pass"
    assert evaluate(check, facts, {"level": 4}).status == "pass"
    assert evaluate(check, facts, {"level": 5}).status == "fail"
    assert evaluate(check, facts, {"level": 5, "params": {"test_probe_check.min_days": 100}}).status == "pass"


def test_unavailable_facts_never_pass() -> None:
    check = make_check({"fact": "cfg", "path": "a", "not_equals": "x"}, ["cfg"])
    assert evaluate(check, {}, {"level": 1}) == Outcome("error", detail="fact not collected: cfg")
    skipped = {"cfg": FactUnavailable("skipped", "needs root; host has no sudo")}
    assert evaluate(check, skipped, {}).status == "skipped"
    assert evaluate(check, {"cfg": FactUnavailable("error", "timed out")}, {}).detail == "cfg: timed out"


def test_raw_fact_failures_become_unavailable() -> None:
    catalog = load_catalog()
    assert parse_fact(catalog, "passwd", RawFact(rc=1, stdout="", stderr="cat: /etc/passwd: denied")) == (
        FactUnavailable("error", "command exited with status 1: cat: /etc/passwd: denied")
    )
    assert parse_fact(catalog, "passwd", RawFact(rc=None, stdout="", timed_out=True)).status == "error"
    assert parse_fact(
        catalog, "passwd", RawFact(rc=0, stdout="root:x:0:0::/root:/bin/sh\n", truncated=True)
    ) == (FactUnavailable("error", "output exceeded the size cap and was truncated"))
    assert (
        parse_fact(catalog, "shadow", RawFact(rc=None, stdout="", skipped="needs root")).status == "skipped"
    )
    absent = parse_fact(
        catalog, "sshd_config", RawFact(rc=0, stdout="__SECOPS_ABSENT__ OpenSSH server not installed\n")
    )
    assert absent == FactUnavailable("not_applicable", "OpenSSH server not installed")


def test_python_escape_hatch() -> None:
    if "test_only_even_ports" not in FUNCTIONS:

        @register("test_only_even_ports")
        def _even(facts: Any, context: Any, args: Any) -> Verdict:
            odd = [p["port"] for p in facts["open_ports"] if p["port"] % 2]
            return Verdict(
                not odd, "only even ports", f"odd ports: {odd}", (f"odd ports: {odd}",) if odd else ()
            )

    out = run({"python": "test_only_even_ports"})
    assert (out.status, out.observed, out.detail) == ("fail", "odd ports: [443, 23]", "odd ports: [443, 23]")


def test_rule_shape_is_validated() -> None:
    with pytest.raises(ValueError, match="cannot be mixed"):
        make_check({"all": [{"fact": "a", "eq": 1}], "fact": "a", "eq": 1}, ["a"])
    with pytest.raises(ValueError, match="needs a combinator"):
        make_check({"fact": "a"}, ["a"])
    with pytest.raises(ValueError, match="bad regex"):
        make_check({"fact": "a", "regex": "("}, ["a"])
