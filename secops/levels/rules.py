"""Level rule sets as data: ``checks/levels/<regime>.yaml``, validated with pydantic at load.

A regime file declares its input fields, its rules (level, legal basis, vi/en text, a condition), the
appraisal/approval authority per level, the dossier items and the inspection intervals. A new legal regime
(e.g. the 2026 decree) is a new file; nothing here names a regime's fields or levels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from secops.errors import InputError
from secops.resources import data_dir
from secops.yamlfile import read_yaml

DEFAULT_REGIME = "decree85"
LEVELS = (1, 2, 3, 4, 5)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
Scalar = bool | int | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(_Strict):
    """A user-facing text in both languages (Vietnamese first; English is the fallback)."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


class FieldSpec(_Strict):
    """One classification input: ``enum`` (one value), ``set`` (several values), ``int`` or ``bool``."""

    type: Literal["enum", "set", "int", "bool"]
    values: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    label: Text | None = None

    @model_validator(mode="after")
    def _values_fit_type(self) -> FieldSpec:
        if self.type in ("enum", "set") and not self.values:
            raise ValueError(f"a field of type {self.type} needs 'values'")
        if self.type not in ("enum", "set") and self.values:
            raise ValueError(f"'values' only applies to enum and set fields, not {self.type}")
        return self


OPS = ("eq", "in", "gte", "gt", "lte", "lt", "contains", "contains_any", "subset_of", "absent")
_OPS_BY_TYPE: dict[str, set[str]] = {
    "enum": {"eq", "in", "absent"},
    "set": {"contains", "contains_any", "subset_of", "absent"},
    "int": {"eq", "in", "gte", "gt", "lte", "lt", "absent"},
    "bool": {"eq", "absent"},
}


class Condition(_Strict):
    """``all``/``any``/``not`` over leaves ``{field, <op>: value}``; ``when_absent`` decides an absent one."""

    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    field: str | None = None
    eq: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    gte: int | None = None
    gt: int | None = None
    lte: int | None = None
    lt: int | None = None
    contains: str | None = None
    contains_any: tuple[str, ...] | None = None
    subset_of: tuple[str, ...] | None = None
    absent: bool | None = None
    when_absent: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [k for k in ("all", "any", "not_", "field") if getattr(self, k) is not None]
        if len(forms) != 1:
            raise ValueError("a condition is exactly one of: all, any, not, or a leaf with 'field'")
        if self.field is None:
            if self.op is not None or self.when_absent is not None:
                raise ValueError("operators and when_absent belong to a leaf with 'field'")
            if (self.all is not None and not self.all) or (self.any is not None and not self.any):
                raise ValueError("all/any need at least one condition")
            return self
        ops = [op for op in OPS if getattr(self, _attr(op)) is not None]
        if len(ops) != 1:
            raise ValueError(f"a leaf needs exactly one operator of: {', '.join(OPS)}")
        return self

    @property
    def op(self) -> str | None:
        return next((op for op in OPS if getattr(self, _attr(op)) is not None), None)

    @property
    def operand(self) -> Any:
        op = self.op
        return None if op is None else getattr(self, _attr(op))

    def fields(self) -> Iterator[str]:
        """Every input field the condition reads."""
        if self.field is not None:
            yield self.field
        for child in self.children():
            yield from child.fields()

    def children(self) -> tuple[Condition, ...]:
        if self.not_ is not None:
            return (self.not_,)
        return self.all or self.any or ()

    def to_text(self) -> str:
        """A one-line reading of the condition, e.g. ``function = internal AND information ⊆ {public}``."""
        if self.not_ is not None:
            inner = self.not_.to_text()
            return f"NOT {inner}" if self.not_.field is not None else f"NOT ({inner})"
        if self.all is not None or self.any is not None:
            joiner = " AND " if self.all is not None else " OR "
            return joiner.join(f"({c.to_text()})" if c.all or c.any else c.to_text() for c in self.children())
        op, operand = self.op or "", self.operand
        if isinstance(operand, tuple):
            shown = "{" + ", ".join(map(str, operand)) + "}"
        else:
            shown = str(operand).lower() if isinstance(operand, bool) else str(operand)
        symbol = {"eq": "=", "in": "∈", "gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "contains": "∋",
                  "contains_any": "∩", "subset_of": "⊆"}.get(op)
        text = f"{self.field} is absent" if op == "absent" and operand else (
            f"{self.field} is recorded" if op == "absent" else f"{self.field} {symbol} {shown}")
        if self.when_absent is not None:
            text += f" (if absent: {str(self.when_absent).lower()})"
        return text

    def to_data(self) -> dict[str, Any]:
        """The condition as it is written in the file (for ``level rules --format json`` and docs)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    level: int = Field(ge=1, le=5)
    basis: Text
    text: Text
    when: Condition


class Authority(_Strict):
    appraisal: Text
    approval: Text
    basis: Text


class DossierItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: Text
    basis: Text
    levels: tuple[int, ...] = Field(min_length=1)


class Inspection(_Strict):
    basis: Text
    interval_months: dict[int, int | None]
    organization_interval_months: int | None = None


class ComponentRule(_Strict):
    """Art. 5.2: the reason text for a component; placeholders ``{component}``, ``{level}``, ``{via}``."""

    basis: Text
    text: Text
    text_via: Text


class Regime(_Strict):
    regime: str = Field(pattern=_NAME.pattern)
    title: Text
    fields: dict[str, FieldSpec]
    fallback_missing: tuple[str, ...] = ()
    no_rule_note: Text
    component_rule: ComponentRule
    rules: tuple[Rule, ...] = Field(min_length=1)
    authorities: dict[int, Authority]
    dossier: tuple[DossierItem, ...]
    inspection: Inspection
    source: str = ""

    def authority(self, level: int) -> Authority | None:
        return self.authorities.get(level)

    def inspection_interval(self, level: int | None) -> int | None:
        """Months between per-system inspections at ``level`` (None: no periodic per-system duty)."""
        return None if level is None else self.inspection.interval_months.get(level)

    def dossier_for(self, level: int | None) -> list[tuple[DossierItem, bool]]:
        """Every dossier item with whether ``level`` needs it (unknown level: the items every level needs)."""
        return [(item, (level in item.levels) if level is not None else set(LEVELS) <= set(item.levels))
                for item in self.dossier]


def _semantic_errors(regime: Regime) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Checks pydantic cannot do alone: fields exist, operators fit the field type, values are allowed."""
    for name in regime.fallback_missing:
        if name not in regime.fields:
            yield ("fallback_missing",), f"unknown field {name!r}"
    seen: set[str] = set()
    for i, rule in enumerate(regime.rules):
        if rule.id in seen:
            yield ("rules", i, "id"), f"duplicate rule id {rule.id!r}"
        seen.add(rule.id)
        yield from _condition_errors(regime, rule.when, ("rules", i, "when"))
    for level in regime.authorities:
        if level not in LEVELS:
            yield ("authorities", level), f"level must be 1–5, got {level}"
    missing = [lv for lv in LEVELS if lv not in regime.authorities]
    if missing:
        yield ("authorities",), f"no authority for level(s) {', '.join(map(str, missing))}"
    for i, item in enumerate(regime.dossier):
        if not set(item.levels) <= set(LEVELS):
            yield ("dossier", i, "levels"), "levels must be 1–5"


def _condition_errors(
    regime: Regime, cond: Condition, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    key = "not" if cond.not_ is not None else ("all" if cond.all is not None else "any")
    for j, child in enumerate(cond.children()):
        yield from _condition_errors(regime, child, (*path, key) if key == "not" else (*path, key, j))
    if cond.field is None:
        return
    spec = regime.fields.get(cond.field)
    if spec is None:
        yield (*path, "field"), f"unknown field {cond.field!r}; declared fields: {', '.join(regime.fields)}"
        return
    op = cond.op or ""
    if op not in _OPS_BY_TYPE[spec.type]:
        yield (*path, op), f"operator {op!r} does not apply to {spec.type} field {cond.field!r}"
        return
    operand = cond.operand
    values = operand if isinstance(operand, tuple) else (operand,)
    for value in values:
        if op == "absent":
            continue
        if spec.type in ("enum", "set") and value not in spec.values:
            yield (*path, op), f"{value!r} is not a value of {cond.field!r} ({', '.join(spec.values)})"
        elif spec.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            yield (*path, op), f"{cond.field!r} is a number; got {value!r}"
        elif spec.type == "bool" and not isinstance(value, bool):
            yield (*path, op), f"{cond.field!r} is true or false; got {value!r}"


def parse_regime(path: Path) -> Regime:
    """Read and validate one regime file; a problem raises InputError with ``FILE:LINE`` and the reason."""
    doc = read_yaml(path)
    try:
        regime = Regime.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        raise doc.error(loc, f"{_loc_text(loc)}: {err['msg']}") from None
    problems = list(_semantic_errors(regime))
    if problems:
        loc, reason = problems[0]
        raise doc.error(loc, f"{_loc_text(loc)}: {reason}")
    if regime.regime != path.stem:
        raise doc.error(("regime",), f"regime {regime.regime!r} must match the file name")
    return regime.model_copy(update={"source": str(path)})


def _loc_text(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def regime_dirs(catalogs: Sequence[Path] = ()) -> list[Path]:
    """Where regime files live: ``<catalog>/levels`` for each extra catalog first, then the shipped ones."""
    return [Path(c) / "levels" for c in catalogs] + [data_dir("checks") / "levels"]


def regime_path(name: str, catalogs: Sequence[Path] = ()) -> Path:
    if not _NAME.match(name):
        raise InputError(f"invalid regime name {name!r} (use lower-case letters, digits, - and _)")
    dirs = regime_dirs(catalogs)
    for directory in dirs:
        candidate = directory / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    raise InputError(f"unknown legal regime {name!r}: no {name}.yaml in {', '.join(map(str, dirs))}")


def available_regimes(catalogs: Sequence[Path] = ()) -> list[str]:
    names = {p.stem for d in regime_dirs(catalogs) if d.is_dir() for p in d.glob("*.yaml")}
    return sorted(names)


def load_regime(name: str = DEFAULT_REGIME, catalogs: Sequence[Path] = ()) -> Regime:
    """The validated rule set of regime ``name`` (cached while the file is unchanged)."""
    path = regime_path(name, catalogs)
    return _load_cached(path.resolve(), path.stat().st_mtime_ns)


@cache
def _load_cached(path: Path, _mtime_ns: int) -> Regime:
    return parse_regime(path)


__all__ = [
    "DEFAULT_REGIME",
    "Condition",
    "DossierItem",
    "FieldSpec",
    "Regime",
    "Rule",
    "Text",
    "available_regimes",
    "load_regime",
    "parse_regime",
]
