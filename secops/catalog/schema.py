"""Pydantic schemas of the catalog data files: requirement frameworks, fact definitions and checks.

Validation happens once, at load; a bad file stops the tool at start-up with file, line and reason.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from secops.i18n import pick

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
STATUSES = ("pass", "fail", "error", "skipped", "not_applicable")
PLATFORMS = ("linux", "network")

Severity = Literal["low", "medium", "high", "critical"]
Platform = Literal["linux", "network"]
Status = Literal["pass", "fail", "error", "skipped", "not_applicable"]

ID_RE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$"
_CONFIDENCE_RE = re.compile(r"^(V|V-form|S|S-gh|M)(\s*/\s*(V|V-form|S|S-gh|M))*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A user-facing text in Vietnamese and English (both required, neither empty)."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def pick(self, lang: str | None = None) -> str:
        return pick({"vi": self.vi, "en": self.en}, lang)


# --------------------------------------------------------------------------------------------- frameworks


class Group(Strict):
    kind: Literal["management", "technical"]
    title: Text


class Requirement(Strict):
    """One row of a regime's requirement table. Requirements are cumulative: they apply at ``min_level``+."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*-[0-9]+[a-z]?$")
    regime: str = ""
    row: str | None = None
    group: str
    kind: Literal["management", "technical"]
    title: Text
    min_level: int = Field(ge=1, le=5)
    likely_from_level: int | None = Field(default=None, ge=1, le=5)
    parameter: str | None = None
    source: str = Field(min_length=1)
    confidence: str
    note: str | None = None
    checks: list[str] = Field(default_factory=list)
    manual: bool = False
    scored: bool = True  # False: a rule of the framework itself (e.g. cumulative levels), not evidence

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: str) -> str:
        if not _CONFIDENCE_RE.match(value.strip()):
            raise ValueError(f"confidence {value!r} must be tags V, V-form, S, S-gh or M joined by '/'")
        return value.strip()

    @model_validator(mode="after")
    def _evidence(self) -> Requirement:
        if not self.checks and not self.manual and self.scored:
            raise ValueError(f"requirement {self.id} names no checks and is not manual")
        if len(set(self.checks)) != len(self.checks):
            raise ValueError(f"requirement {self.id} names a check twice")
        return self


class FrameworkFile(Strict):
    regime: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    basis: list[str] = Field(min_length=1)
    groups: dict[str, Group]
    requirements: list[Requirement] = Field(min_length=1)


class Framework(Strict):
    regime: str
    title: Text
    basis: list[str]
    groups: dict[str, Group]
    requirement_ids: list[str]
    path: str


# -------------------------------------------------------------------------------------------------- facts


class FactDef(Strict):
    """A fact: how it is collected (a fixed shell snippet of ours, or observed by a scan) and parsed."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    source: Literal["command", "observed"] = "command"
    command: str | None = None
    root: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)
    parser: str = "text"
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _command(self) -> FactDef:
        if self.source == "command" and not (self.command or "").strip():
            raise ValueError(f"fact {self.id} has source 'command' but no command")
        if self.source == "observed" and self.command:
            raise ValueError(f"fact {self.id} is observed; it cannot have a command")
        return self


class FactsFile(Strict):
    platform: Platform
    facts: list[FactDef] = Field(min_length=1)


# ------------------------------------------------------------------------------------------------- probes

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
VALUE_OPS = (
    "exists", "equals", "not_equals", "in", "not_in", "regex", "not_regex", *COMPARISONS,
    "empty", "contains", "not_contains", "subset_of", "mode_within",
)  # fmt: skip
ITEM_OPS = ("any_item", "all_items", "no_item")
COMBINATORS = ("all", "any", "none", "not")


class Rule(Strict):
    """One node of a probe: a combinator (all/any/none/not), a test on a fact value, or a Python function.

    A test selects a value with ``fact`` and ``path`` (dot-separated keys; ``*`` maps over a list, ``#`` is
    the length) and applies every operator given; all must hold. Inside ``any_item``/``all_items``/
    ``no_item`` the nested rule's ``path`` is relative to the list element and ``fact`` is omitted.
    """

    all_: list[Rule] | None = Field(default=None, alias="all")
    any_: list[Rule] | None = Field(default=None, alias="any")
    none_: list[Rule] | None = Field(default=None, alias="none")
    not_: Rule | None = Field(default=None, alias="not")

    fact: str | None = None
    path: str | None = None
    default: Any = None
    label: str | None = None
    show: str | None = None

    exists: bool | None = None
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | dict[str, Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | dict[str, Any] | None = None
    regex: str | None = None
    not_regex: str | None = None
    eq: Any = None
    ne: Any = None
    lt: Any = None
    le: Any = None
    gt: Any = None
    ge: Any = None
    empty: bool | None = None
    contains: Any = None
    not_contains: Any = None
    subset_of: list[Any] | dict[str, Any] | None = None
    mode_within: str | None = Field(default=None, pattern=r"^0?[0-7]{3,4}$")
    any_item: Rule | None = None
    all_items: Rule | None = None
    no_item: Rule | None = None

    python: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)

    def combinator(self) -> str | None:
        for name in COMBINATORS:
            if getattr(self, name + "_") is not None:
                return name
        return None

    def operators(self) -> list[str]:
        names = [op for op in VALUE_OPS if getattr(self, "in_" if op == "in" else op) is not None]
        return names + [op for op in ITEM_OPS if getattr(self, op) is not None]

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        combos = [name for name in COMBINATORS if getattr(self, name + "_") is not None]
        ops = self.operators()
        if len(combos) > 1:
            raise ValueError(f"a rule has one combinator, not {', '.join(combos)}")
        if combos and (ops or self.fact or self.path or self.python):
            raise ValueError(f"'{combos[0]}' cannot be mixed with a fact test in the same rule")
        if self.python and ops:
            raise ValueError("'python' cannot be mixed with operators in the same rule")
        if not combos and not ops and not self.python:
            raise ValueError(
                f"a rule needs a combinator, an operator ({', '.join(VALUE_OPS + ITEM_OPS)}) or python"
            )
        for name in ("all_", "any_", "none_"):
            value = getattr(self, name)
            if value is not None and not value:
                raise ValueError(f"'{name.rstrip('_')}' needs at least one rule")
        for pattern in (self.regex, self.not_regex):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        return self

    def walk(self) -> list[Rule]:
        """This rule and every nested rule (for cross-validation)."""
        out: list[Rule] = [self]
        for child in (self.all_ or []) + (self.any_ or []) + (self.none_ or []):
            out += child.walk()
        for single in (self.not_, self.any_item, self.all_items, self.no_item):
            if single is not None:
                out += single.walk()
        return out


# ------------------------------------------------------------------------------------------------- checks


class Param(Strict):
    """A threshold kept as data: a default, optional per-level values (for level N the highest key ≤ N)."""

    default: Any
    by_level: dict[int, Any] = Field(default_factory=dict)
    source: str | None = None

    def value(self, level: int | None) -> Any:
        if level is not None:
            keys = [k for k in self.by_level if k <= level]
            if keys:
                return self.by_level[max(keys)]
        return self.default


class AppliesTo(Strict):
    """When a check applies; otherwise it is ``not_applicable`` (e.g. remote log forwarding from level 3)."""

    min_level: int | None = Field(default=None, ge=1, le=5)
    max_level: int | None = Field(default=None, ge=1, le=5)
    zones: list[str] | None = None
    when: Rule | None = None


class RawSample(Strict):
    stdout: str = ""
    stderr: str = ""
    rc: int | None = 0
    skipped: str | None = None
    timed_out: bool = False
    truncated: bool = False


class Sample(Strict):
    """An embedded test: raw fact outputs (as collected) and the status the check must give."""

    name: str | None = None
    expect: Status
    facts: dict[str, Any] = Field(default_factory=dict)  # str = stdout; mapping = RawSample; observed: value
    context: dict[str, Any] = Field(default_factory=dict)


class Check(Strict):
    id: str = Field(pattern=ID_RE)
    title: Text
    severity: Severity
    platform: Platform
    requirements: list[str] = Field(min_length=1)
    facts: list[str] = Field(min_length=1)
    probe: Rule
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    params: dict[str, Param] = Field(default_factory=dict)
    rationale: Text
    remediation: Text
    references: list[str] = Field(default_factory=list)
    tests: list[Sample] = Field(min_length=2)
    path: str = ""
    line: int = 0

    @model_validator(mode="after")
    def _samples(self) -> Check:
        expected = {sample.expect for sample in self.tests}
        if not {"pass", "fail"} <= expected:
            raise ValueError(f"check {self.id} needs at least one 'pass' and one 'fail' sample")
        return self


class ChecksFile(Strict):
    checks: list[Check] = Field(min_length=1)
