"""Load the catalog: shipped ``checks/`` plus user directories, validated and cross-checked at start-up.

Layout of every catalog directory: ``frameworks/*.yaml`` (requirements per regime), ``facts/*.yaml`` (how
facts are collected and parsed), ``linux/*.yaml`` and ``network/*.yaml`` (checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from secops.catalog.schema import (
    Check,
    ChecksFile,
    FactDef,
    FactsFile,
    Framework,
    FrameworkFile,
    Requirement,
    Rule,
)
from secops.collect.bundle import FactSpec
from secops.errors import InputError
from secops.resources import data_dir
from secops.yamlfile import YamlDoc, read_yaml, validate

DEFAULT_REGIME = "decree85"
CHECK_DIRS = ("linux", "network")


@dataclass(frozen=True)
class Catalog:
    """Everything the checks need, keyed by id. ``facts`` holds the command facts collectors run."""

    frameworks: dict[str, Framework]
    requirements: dict[str, Requirement]
    checks: dict[str, Check]
    facts: dict[str, FactSpec]
    fact_defs: dict[str, FactDef]
    regime: str = DEFAULT_REGIME
    roots: tuple[Path, ...] = field(default_factory=tuple)

    def requirements_for(self, level: int, regime: str | None = None) -> list[Requirement]:
        """Requirements applicable to a system of ``level`` (cumulative: every ``min_level`` ≤ level)."""
        regime = regime or self.regime
        return [r for r in self.requirements.values() if r.regime == regime and r.min_level <= level]

    def scored_requirements(self, regime: str | None) -> list[Requirement]:
        """The requirements a system of ``regime`` is scored on: rules of the framework itself
        (``scored: false``, e.g. "levels are cumulative") are not evidence and never count."""
        return [r for r in self.requirements.values() if r.scored and r.regime in ("", regime or self.regime)]

    def checks_for(self, platform: str) -> list[Check]:
        return [c for c in self.checks.values() if c.platform == platform]

    def fact_specs(self, facts: Sequence[str] | None = None) -> list[FactSpec]:
        """The command facts to collect (all, or those named), in a stable order."""
        wanted = self.facts if facts is None else {f: self.facts[f] for f in facts if f in self.facts}
        return [wanted[key] for key in sorted(wanted)]


def _roots(extra_dirs: Sequence[Path]) -> tuple[Path, ...]:
    roots = [data_dir("checks")]
    for extra in extra_dirs:
        path = Path(extra).expanduser()
        if not path.is_dir():
            raise InputError(f"{path}: catalog directory does not exist")
        roots.append(path)
    return tuple(r.resolve() for r in roots)


def _files(root: Path, sub: str) -> list[Path]:
    folder = root / sub
    return sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]) if folder.is_dir() else []


def _dup(kind: str, key: str, here: str, first: str) -> InputError:
    return InputError(f"{here}: duplicate {kind} id {key!r} (first defined at {first})")


def _load_facts(roots: tuple[Path, ...]) -> dict[str, tuple[FactDef, str]]:
    facts: dict[str, tuple[FactDef, str]] = {}
    for root in roots:
        for path in _files(root, "facts"):
            doc = read_yaml(path)
            parsed = validate(doc, FactsFile)
            for index, fact in enumerate(parsed.facts):
                where = doc.where(("facts", index))
                if fact.id in facts:
                    raise _dup("fact", fact.id, where, facts[fact.id][1])
                facts[fact.id] = (fact, where)
    return facts


def _load_checks(roots: tuple[Path, ...]) -> dict[str, tuple[Check, YamlDoc, int]]:
    checks: dict[str, tuple[Check, YamlDoc, int]] = {}
    for root in roots:
        for sub in CHECK_DIRS:
            for path in _files(root, sub):
                doc = read_yaml(path)
                parsed = validate(doc, ChecksFile)
                for index, check in enumerate(parsed.checks):
                    line = doc.line(("checks", index))
                    if check.id in checks:
                        first = checks[check.id]
                        raise _dup("check", check.id, f"{path}:{line}", f"{first[1].path}:{first[2]}")
                    if check.platform != sub:
                        raise doc.error(
                            ("checks", index, "platform"),
                            f"check {check.id} is in {sub}/ but its platform is {check.platform}",
                        )
                    checks[check.id] = (
                        check.model_copy(update={"path": str(path), "line": line}),
                        doc,
                        index,
                    )
    return checks


def _load_frameworks(
    roots: tuple[Path, ...],
) -> tuple[dict[str, Framework], dict[str, tuple[Requirement, str]]]:
    frameworks: dict[str, Framework] = {}
    requirements: dict[str, tuple[Requirement, str]] = {}
    for root in roots:
        for path in _files(root, "frameworks"):
            doc = read_yaml(path)
            parsed = validate(doc, FrameworkFile)
            if parsed.regime in frameworks:
                raise doc.error(
                    ("regime",),
                    f"regime {parsed.regime!r} already defined in {frameworks[parsed.regime].path}",
                )
            for index, req in enumerate(parsed.requirements):
                where = doc.where(("requirements", index))
                if req.id in requirements:
                    raise _dup("requirement", req.id, where, requirements[req.id][1])
                if req.group not in parsed.groups:
                    raise doc.error(("requirements", index, "group"), f"unknown group {req.group!r}")
                if parsed.groups[req.group].kind != req.kind:
                    raise doc.error(
                        ("requirements", index, "kind"),
                        f"requirement {req.id} is {req.kind} but group {req.group} is "
                        f"{parsed.groups[req.group].kind}",
                    )
                requirements[req.id] = (req.model_copy(update={"regime": parsed.regime}), where)
            frameworks[parsed.regime] = Framework(
                regime=parsed.regime,
                title=parsed.title,
                basis=parsed.basis,
                groups=parsed.groups,
                requirement_ids=[r.id for r in parsed.requirements],
                path=str(path),
            )
    return frameworks, requirements


def _cross_check_rules(check: Check, doc: YamlDoc, index: int, facts: dict[str, tuple[FactDef, str]]) -> None:
    from secops.probes.functions import FUNCTIONS

    def fail(key: str, reason: str) -> InputError:
        return doc.error(("checks", index, key), f"check {check.id}: {reason}")

    for fact in check.facts:
        if fact not in facts:
            raise fail("facts", f"unknown fact {fact!r}")
    rules: list[tuple[Rule, bool]] = [(check.probe, False)]
    if check.applies_to.when is not None:
        rules.append((check.applies_to.when, False))
    seen: set[int] = set()
    while rules:
        rule, in_item = rules.pop()
        if id(rule) in seen:
            continue
        seen.add(id(rule))
        if rule.python is not None and rule.python not in FUNCTIONS:
            raise fail("probe", f"unknown python function {rule.python!r}")
        if rule.operators() and rule.python is None:
            if rule.fact is None and not in_item:
                raise fail("probe", "a test outside any_item/all_items/no_item needs 'fact'")
            if rule.fact is not None and rule.fact not in check.facts:
                raise fail("probe", f"the probe reads fact {rule.fact!r}, which is not in its 'facts'")
        for name in (
            "equals",
            "not_equals",
            "in_",
            "not_in",
            "eq",
            "ne",
            "lt",
            "le",
            "gt",
            "ge",
            "contains",
            "not_contains",
            "subset_of",
        ):
            value = getattr(rule, name)
            if isinstance(value, dict) and "param" in value and value["param"] not in check.params:
                raise fail("probe", f"unknown parameter {value['param']!r}")
            if isinstance(value, dict) and "fact" in value and value["fact"] not in check.facts:
                raise fail("probe", f"operand fact {value['fact']!r} is not in its 'facts'")
        for child in (rule.all_ or []) + (rule.any_ or []) + (rule.none_ or []):
            rules.append((child, in_item))
        if rule.not_ is not None:
            rules.append((rule.not_, in_item))
        for item_rule in (rule.any_item, rule.all_items, rule.no_item):
            if item_rule is not None:
                rules.append((item_rule, True))
    for sample_index, sample in enumerate(check.tests):
        for fact in sample.facts:
            if fact not in check.facts:
                raise doc.error(
                    ("checks", index, "tests", sample_index, "facts", fact),
                    f"check {check.id}: sample gives fact {fact!r}, which the check does not use",
                )


def _build(roots: tuple[Path, ...]) -> Catalog:
    from secops.probes.parsers import PARSERS

    fact_entries = _load_facts(roots)
    for fact, where in fact_entries.values():
        if fact.parser not in PARSERS:
            raise InputError(
                f"{where}: fact {fact.id}: unknown parser {fact.parser!r} "
                f"(known: {', '.join(sorted(PARSERS))})"
            )
    check_entries = _load_checks(roots)
    frameworks, req_entries = _load_frameworks(roots)
    if not frameworks:
        raise InputError(f"no requirement framework found under {', '.join(str(r) for r in roots)}")
    mapped: dict[str, list[str]] = {rid: list(req.checks) for rid, (req, _) in req_entries.items()}
    for rid, (req, where) in req_entries.items():
        for cid in req.checks:
            if cid not in check_entries:
                raise InputError(f"{where}: requirement {rid} names unknown check {cid!r}")
    for cid, (check, doc, index) in check_entries.items():
        _cross_check_rules(check, doc, index, fact_entries)
        for rid in check.requirements:
            if rid not in req_entries:
                raise doc.error(
                    ("checks", index, "requirements"), f"check {cid} names unknown requirement {rid!r}"
                )
            if cid not in mapped[rid]:
                mapped[rid].append(cid)
    requirements = {
        rid: req.model_copy(update={"checks": mapped[rid]}) for rid, (req, _) in req_entries.items()
    }
    for rid, req in requirements.items():
        for cid in req.checks:
            if rid not in check_entries[cid][0].requirements:
                check, _, _ = check_entries[cid]
                check_entries[cid] = (
                    check.model_copy(update={"requirements": [*check.requirements, rid]}),
                    check_entries[cid][1],
                    check_entries[cid][2],
                )
    fact_defs = {fid: fact for fid, (fact, _) in fact_entries.items()}
    specs = {
        fid: FactSpec(id=fid, command=fact.command or "", root=fact.root, timeout=fact.timeout)
        for fid, fact in fact_defs.items()
        if fact.source == "command"
    }
    return Catalog(
        frameworks=frameworks,
        requirements=requirements,
        checks={cid: entry[0] for cid, entry in check_entries.items()},
        facts=specs,
        fact_defs=fact_defs,
        roots=roots,
    )


@lru_cache(maxsize=8)
def _cached(roots: tuple[Path, ...]) -> Catalog:
    return _build(roots)


def load_catalog(extra_dirs: Sequence[Path | str] = ()) -> Catalog:
    """The shipped catalog plus ``extra_dirs`` (``--catalog``), validated; cached per set of directories."""
    return _cached(_roots([Path(d) for d in extra_dirs]))


def clear_cache() -> None:
    _cached.cache_clear()
