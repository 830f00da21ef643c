"""Three-valued evaluation of rule conditions over plain data (no database, no I/O).

A leaf over a field that is not recorded (None or an empty list) is *unknown* unless it says
``when_absent``. ``all`` is false if any part is false, else unknown if any part is unknown; ``any`` is true
if any part is true, else unknown if any part is unknown. An unknown result carries the fields to record
next: for ``all`` those of its first unknown part (rules list their gating condition first, e.g. the
function), for ``any`` those of every unknown branch.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secops.levels.rules import Condition

_ORDER = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt}


@dataclass(frozen=True)
class Truth:
    """``value`` is True, False or None (unknown); ``missing`` names the fields that would decide it."""

    value: bool | None
    missing: tuple[str, ...] = ()


TRUE, FALSE = Truth(True), Truth(False)


def is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple | set | frozenset) and not value)


def evaluate(cond: Condition, inputs: Mapping[str, Any]) -> Truth:
    if cond.not_ is not None:
        inner = evaluate(cond.not_, inputs)
        return inner if inner.value is None else Truth(not inner.value)
    if cond.all is not None:
        first_unknown: Truth | None = None
        for part in cond.all:
            result = evaluate(part, inputs)
            if result.value is False:
                return FALSE
            if result.value is None and first_unknown is None:
                first_unknown = result
        return first_unknown or TRUE
    if cond.any is not None:
        missing: list[str] = []
        unknown = False
        for part in cond.any:
            result = evaluate(part, inputs)
            if result.value is True:
                return TRUE
            if result.value is None:
                unknown = True
                missing += [f for f in result.missing if f not in missing]
        return Truth(None, tuple(missing)) if unknown else FALSE
    return _leaf(cond, inputs)


def _leaf(cond: Condition, inputs: Mapping[str, Any]) -> Truth:
    assert cond.field is not None
    value = inputs.get(cond.field)
    op, operand = cond.op, cond.operand
    if is_absent(value):
        if op == "absent":
            return Truth(bool(operand))
        if cond.when_absent is not None:
            return Truth(cond.when_absent)
        return Truth(None, (cond.field,))
    if op == "absent":
        return Truth(not operand)
    return Truth(bool(_compare(op, value, operand)))


def _compare(op: str | None, value: Any, operand: Any) -> bool:
    if op == "eq":
        return bool(value == operand and isinstance(value, bool) == isinstance(operand, bool))
    if op == "in":
        return value in operand
    if op in ("gte", "gt", "lte", "lt"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return bool(_ORDER[op](value, operand))
    values = set(value) if isinstance(value, list | tuple | set | frozenset) else {value}
    if op == "contains":
        return operand in values
    if op == "contains_any":
        return bool(values & set(operand))
    if op == "subset_of":
        return values <= set(operand)
    raise ValueError(f"unknown operator {op!r}")
