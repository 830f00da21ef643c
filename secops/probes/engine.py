"""Evaluate a check's probe against parsed facts. Pure: no I/O, no clock; everything comes in as arguments.

String comparisons ignore case; numbers written as text ("0", "4") compare as numbers. A value absent from
a fact fails every positive operator and satisfies the negative ones (``not_equals``, ``not_in``,
``not_regex``, ``not_contains``, ``exists: false``) unless the rule gives a ``default``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from secops.catalog.schema import COMPARISONS, Check, Rule
from secops.probes.functions import FUNCTIONS
from secops.probes.outcome import FactUnavailable, Outcome, OutcomeStatus, ProbeError, Verdict


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


MISSING: Any = _Missing()
_NEGATIVE = ("not_equals", "not_in", "not_regex", "not_contains")
_SYMBOL = {"eq": "==", "ne": "!=", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


def select(value: Any, path: str | None) -> Any:
    """Follow a dot path: keys of mappings, list indexes; ``*`` maps over a list, ``#`` is the length."""
    if not path:
        return value
    if value is MISSING or value is None:
        return MISSING
    if isinstance(value, Mapping):  # keys may contain dots (sysctl names, units, file paths): longest first
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            key = ".".join(parts[:cut])
            if key in value:
                return select(value[key], ".".join(parts[cut:]))
        if parts[0] not in ("*", "#"):
            return MISSING
    head, _, rest = path.partition(".")
    if head == "*":
        if not isinstance(value, list | tuple | set):
            raise ProbeError(f"'*' needs a list, got {type(value).__name__}")
        return [v for v in (select(item, rest) for item in value) if v is not MISSING]
    if head == "#":
        if not hasattr(value, "__len__"):
            raise ProbeError(f"'#' needs a list or text, got {type(value).__name__}")
        return select(len(value), rest)
    if isinstance(value, Mapping):
        return select(value.get(head, MISSING), rest)
    if isinstance(value, list) and head.lstrip("-").isdigit():
        index = int(head)
        return select(value[index], rest) if -len(value) <= index < len(value) else MISSING
    return MISSING


def render(value: Any) -> str:
    if value is MISSING:
        return "(not set)"
    if isinstance(value, str):
        return value
    if isinstance(value, set):
        value = sorted(value, key=str)
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        return float(value)
    raise ProbeError(f"not a number: {render(value)}")


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return text.casefold()
    if isinstance(value, bool):
        return str(value).casefold()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _eq(a: Any, b: Any) -> bool:
    return bool(_norm(a) == _norm(b))


def _hashable(value: Any) -> Any:
    normed = _norm(value)
    return json.dumps(normed, sort_keys=True, default=str) if isinstance(normed, dict | list) else normed


class Evaluator:
    """Evaluates rules for one check on one host's facts and context."""

    def __init__(self, check: Check, facts: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        self.check, self.facts, self.context = check, facts, context
        self.level = context.get("level")

    def param(self, name: str) -> Any:
        overrides = self.context.get("params") or {}
        key = f"{self.check.id}.{name}"
        if key in overrides:
            return overrides[key]
        return self.check.params[name].value(self.level)

    def operand(self, value: Any) -> Any:
        if isinstance(value, Mapping) and set(value) <= {"param"} and "param" in value:
            return self.param(value["param"])
        if isinstance(value, Mapping) and "fact" in value and set(value) <= {"fact", "path"}:
            return select(self.fact(value["fact"]), value.get("path"))
        return value

    def fact(self, name: str) -> Any:
        value = self.facts.get(name, MISSING)
        if isinstance(value, FactUnavailable):
            raise ProbeError(f"fact {name} unavailable: {value.reason}")
        return value

    # ------------------------------------------------------------------------------------------ rules

    def rule(self, rule: Rule, item: Any = MISSING) -> Verdict:
        combinator = rule.combinator()
        if combinator == "not":
            assert rule.not_ is not None
            inner = self.rule(rule.not_, item)
            return Verdict(
                not inner.ok,
                f"not ({inner.expected})",
                inner.observed,
                () if not inner.ok else (f"not ({inner.expected})",),
            )
        if combinator is not None:
            children = [self.rule(child, item) for child in getattr(rule, combinator + "_")]
            oks = [c.ok for c in children]
            ok = all(oks) if combinator == "all" else any(oks) if combinator == "any" else not any(oks)
            if combinator == "none":
                expected = f"none of ({'; '.join(c.expected for c in children)})"
            elif len(children) == 1:
                expected = children[0].expected
            else:
                expected = (
                    "("
                    + (" and " if combinator == "all" else " or ").join(c.expected for c in children)
                    + ")"
                )
            observed = "; ".join(dict.fromkeys(c.observed for c in children if c.observed))
            if ok:
                failures: tuple[str, ...] = ()
            elif combinator == "all":
                failures = tuple(f for c in children for f in c.failures)
            elif combinator == "any":
                failures = (f"none held: {expected}",)
            else:
                failures = tuple(f"unexpectedly held: {c.expected}" for c in children if c.ok)
            return Verdict(ok, expected, observed, failures)
        if rule.python is not None:
            return FUNCTIONS[rule.python](self.facts, self.context, {**rule.args, **self._param_args(rule)})
        return self.test(rule, item)

    def _param_args(self, rule: Rule) -> dict[str, Any]:
        return {
            k: self.param(v["param"]) for k, v in rule.args.items() if isinstance(v, Mapping) and "param" in v
        }

    def test(self, rule: Rule, item: Any) -> Verdict:
        root = self.fact(rule.fact) if rule.fact is not None else item
        value = select(root, rule.path)
        if value is MISSING and rule.default is not None:
            value = rule.default
        target = rule.label or ".".join(p for p in (rule.fact, rule.path) if p) or "value"
        checks: list[tuple[bool, str]] = []
        observed = f"{target} = {render(value)}"
        for op in rule.operators():
            raw = getattr(rule, "in_" if op == "in" else op)
            ok, text, extra = self.apply(op, raw, value, rule)
            checks.append((ok, f"{target} {text}"))
            if extra:
                observed = f"{target}: {extra}"
        ok = all(c[0] for c in checks)
        expected = " and ".join(c[1] for c in checks)
        failures = tuple(
            f"{text} (got {render(value) if value is MISSING or not isinstance(value, list) else observed})"
            for good, text in checks
            if not good
        )
        return Verdict(ok, expected, observed, failures)

    def apply(self, op: str, raw: Any, value: Any, rule: Rule) -> tuple[bool, str, str]:
        """One operator: (holds, description of what it expects, extra observed text)."""
        if op == "exists":
            present = value is not MISSING and value is not None
            return present == raw, "is set" if raw else "is not set", ""
        if op in ("any_item", "all_items", "no_item"):
            return self.items(op, raw, value, rule)
        operand = self.operand(raw)
        if op == "empty":
            size = 0 if value is MISSING or value is None else len(value)
            return (size == 0) == operand, "is empty" if operand else "is not empty", ""
        if value is MISSING or value is None:  # an absent value satisfies only the negative operators
            return op in _NEGATIVE, self.describe(op, operand), ""
        if op == "equals":
            return _eq(value, operand), f"== {render(operand)}", ""
        if op == "not_equals":
            return not _eq(value, operand), f"!= {render(operand)}", ""
        if op in ("in", "not_in"):
            found = any(_eq(value, x) for x in operand)
            return found == (op == "in"), self.describe(op, operand), ""
        if op in ("regex", "not_regex"):
            values = value if isinstance(value, list) else [value]
            hit = [v for v in values if re.search(operand, render(v))]
            return (
                bool(hit) == (op == "regex"),
                self.describe(op, operand),
                (f"matching {render(hit)}" if hit and op == "not_regex" else ""),
            )
        if op in COMPARISONS:
            a, b = _number(value), _number(operand)
            holds = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
            return holds, f"{_SYMBOL[op]} {render(operand)}", ""
        if op in ("contains", "not_contains"):
            members = list(value) if isinstance(value, list | tuple | set | dict) else None
            found = (
                any(_eq(m, operand) for m in members)
                if members is not None
                else (str(operand).casefold() in render(value).casefold())
            )
            return found == (op == "contains"), self.describe(op, operand), ""
        if op == "subset_of":
            allowed = {
                _hashable(x) for x in (operand if isinstance(operand, list | tuple | set) else [operand])
            }
            values = list(value) if isinstance(value, list | tuple | set) else [value]
            extra = [v for v in values if _hashable(v) not in allowed]
            return not extra, f"⊆ {render(operand)}", f"not allowed: {render(extra)}" if extra else ""
        if op == "mode_within":
            try:
                mode = int(str(value), 8)
            except ValueError as exc:
                raise ProbeError(f"not a file mode: {render(value)}") from exc
            allowed_mode = int(str(operand), 8)
            return mode & ~allowed_mode == 0, f"mode within {operand}", ""
        raise ProbeError(f"unknown operator {op}")  # pragma: no cover - the schema forbids it

    def describe(self, op: str, operand: Any) -> str:
        words = {
            "equals": "==",
            "not_equals": "!=",
            "in": "in",
            "not_in": "not in",
            "regex": "matches",
            "not_regex": "does not match",
            "contains": "contains",
            "not_contains": "does not contain",
            "subset_of": "⊆",
            "empty": "is empty",
            **_SYMBOL,
        }
        return f"{words.get(op, op)} {render(operand)}"

    def items(self, op: str, rule: Rule, value: Any, parent: Rule) -> tuple[bool, str, str]:
        if value is MISSING or value is None:
            value = []
        if isinstance(value, Mapping):
            value = list(value.values())
        if not isinstance(value, list | tuple):
            raise ProbeError(f"{op} needs a list, got {render(value)}")
        verdicts = [(item, self.rule(rule, item)) for item in value]
        matching = [item for item, verdict in verdicts if verdict.ok]
        failing = [item for item, verdict in verdicts if not verdict.ok]
        shown = matching if op in ("any_item", "no_item") else failing
        names = [render(select(item, parent.show)) if parent.show else render(item) for item in shown]
        inner = verdicts[0][1].expected if verdicts else self._shape(rule)
        if op == "any_item":
            return bool(matching), f"has an item where {inner}", ""
        if op == "all_items":
            return (
                not failing,
                f"has every item where {inner}",
                f"items not matching: {', '.join(names)}" if names else "",
            )
        return (
            not matching,
            f"has no item where {inner}",
            f"items matching: {', '.join(names)}" if names else "",
        )

    def _shape(self, rule: Rule) -> str:
        try:
            return self.rule(rule, {}).expected
        except ProbeError:
            return "…"


def evaluate(check: Check, facts: Mapping[str, Any], context: Mapping[str, Any]) -> Outcome:
    """Evaluate ``check`` on one host's parsed ``facts``; ``context`` has ``level``, ``zone`` (and params)."""
    applies = check.applies_to
    level, zone = context.get("level"), context.get("zone")
    if applies.min_level is not None and level is not None and level < applies.min_level:
        return Outcome(
            "not_applicable", detail=f"applies from level {applies.min_level}; the system is level {level}"
        )
    if applies.max_level is not None and level is not None and level > applies.max_level:
        return Outcome(
            "not_applicable", detail=f"applies up to level {applies.max_level}; the system is level {level}"
        )
    if applies.zones is not None and zone not in applies.zones:
        return Outcome(
            "not_applicable", detail=f"applies to zones {', '.join(applies.zones)}; the host is in {zone}"
        )
    missing = [name for name in check.facts if name not in facts]
    if missing:
        return Outcome("error", detail=f"fact not collected: {', '.join(missing)}")
    unavailable = {name: facts[name] for name in check.facts if isinstance(facts[name], FactUnavailable)}
    statuses: tuple[OutcomeStatus, ...] = ("error", "skipped", "not_applicable")
    for status in statuses:
        reasons = [f"{name}: {fact.reason}" for name, fact in unavailable.items() if fact.status == status]
        if reasons:
            return Outcome(status, detail="; ".join(reasons))
    evaluator = Evaluator(check, facts, context)
    try:
        if applies.when is not None:
            gate = evaluator.rule(applies.when)
            if not gate.ok:
                return Outcome("not_applicable", detail=f"applies when {gate.expected}; {gate.observed}")
        verdict = evaluator.rule(check.probe)
    except ProbeError as exc:
        return Outcome("error", detail=str(exc))
    if verdict.ok:
        return Outcome("pass", verdict.expected, verdict.observed, "")
    return Outcome(
        "fail", verdict.expected, verdict.observed, "; ".join(verdict.failures) or verdict.expected
    )
