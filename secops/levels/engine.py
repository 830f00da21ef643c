"""The level engine: propose each system's level from its regime's rules and its components (Art. 5.2).

Pure part (``assess``, ``classify_tree``) works on plain data; ``classify_systems`` reads and writes the
database. The decision on missing inputs (see docs/levels.md): a system is ``undetermined`` when no rule
gives it a level, or when a rule of a *higher* level than the ones it meets cannot be decided because an
input is not recorded (that input could raise the level). Missing inputs that could only confirm a level
already reached do not matter and are not listed. An undetermined system has ``proposed_level`` null;
``minimum_level`` says what it is at least.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from secops import audit
from secops.errors import InvalidStateError, NotFoundError
from secops.i18n import _, pick
from secops.levels.evaluate import evaluate
from secops.levels.rules import Regime, load_regime
from secops.models.system import System, SystemComponent


@dataclass(frozen=True)
class Reason:
    """One matched rule, or a component that lifts the system (Art. 5.2). Texts are ``{vi, en}``."""

    level: int
    rule: str
    basis: Mapping[str, str]
    text: Mapping[str, str]
    component: str | None = None

    def stored(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "level": self.level, "basis": dict(self.basis),
                                "text": dict(self.text)}
        if self.component is not None:
            data["component"] = self.component
        return data


def reason_view(stored: Mapping[str, Any], lang: str | None = None) -> dict[str, Any]:
    """A stored reason as ``{level, basis, text}`` in ``lang`` (JSON output and ``system show``)."""
    return {"level": stored.get("level"), "basis": pick(stored.get("basis"), lang),
            "text": pick(stored.get("text"), lang)}


@dataclass(frozen=True)
class Outcome:
    """What a system's own inputs give: levels met, rules still undecided (level, missing fields)."""

    minimum: int | None
    reasons: tuple[Reason, ...]
    pending: tuple[tuple[int, tuple[str, ...]], ...]

    @property
    def maximum(self) -> int | None:
        levels = [r.level for r in self.reasons] + [lv for lv, _ in self.pending]
        return max(levels) if levels else None


def assess(inputs: Mapping[str, Any], regime: Regime) -> Outcome:
    """Evaluate every rule of ``regime`` on ``inputs`` (field name → value; None = not recorded)."""
    reasons: list[Reason] = []
    pending: list[tuple[int, tuple[str, ...]]] = []
    for rule in regime.rules:
        truth = evaluate(rule.when, inputs)
        if truth.value is True:
            reasons.append(Reason(rule.level, rule.id, rule.basis.as_dict(), rule.text.as_dict()))
        elif truth.value is None:
            pending.append((rule.level, truth.missing))
    minimum = max((r.level for r in reasons), default=None)
    return Outcome(minimum, tuple(reasons), tuple(pending))


@dataclass(frozen=True)
class SystemData:
    """The plain data the engine needs about one system."""

    code: str
    name: str
    regime: str
    inputs: Mapping[str, Any]
    components: tuple[str, ...] = ()
    approved_level: int | None = None


@dataclass(frozen=True)
class Classification:
    system: str
    name: str
    regime: str
    proposed_level: int | None
    proposed_status: str  # proposed | undetermined
    minimum_level: int | None
    maximum_level: int | None
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]
    note: Mapping[str, str] | None = None
    origin: tuple[str, ...] = ()  # component chain the top level comes from
    approved_level: int | None = None
    decision: Mapping[str, Any] | None = None
    changed: bool = field(default=False, compare=False)

    @property
    def status(self) -> str:
        return "approved" if self.approved_level is not None else self.proposed_status

    def to_json(self, lang: str | None = None) -> dict[str, Any]:
        """The JSON contract of ``level classify`` (issue 2), texts in ``lang``."""
        return {
            "system": self.system,
            "name": self.name,
            "regime": self.regime,
            "proposed_level": self.proposed_level,
            "status": self.status,
            "proposed_status": self.proposed_status,
            "minimum_level": self.minimum_level,
            "approved_level": self.approved_level,
            "decision": dict(self.decision) if self.decision else None,
            "reasons": [reason_view(r.stored(), lang) for r in self.reasons],
            "missing": list(self.missing),
            "note": pick(self.note, lang) if self.note else None,
        }


def _sort_fields(names: Sequence[str], regime: Regime) -> tuple[str, ...]:
    order = {name: i for i, name in enumerate(regime.fields)}
    return tuple(sorted(dict.fromkeys(names), key=lambda n: (order.get(n.split(".")[-1], 99), n)))


def classify_tree(
    systems: Mapping[str, SystemData], regimes: Mapping[str, Regime], codes: Sequence[str] | None = None
) -> dict[str, Classification]:
    """Classify ``codes`` (default all) and, recursively, their components; a cycle is an error."""
    done: dict[str, Classification] = {}

    def visit(code: str, stack: tuple[str, ...]) -> Classification:
        if code in done:
            return done[code]
        if code in stack:
            cycle = " → ".join((*stack[stack.index(code):], code))
            raise InvalidStateError(_("component cycle: {cycle}").format(cycle=cycle))
        data = systems[code]
        parts = [(c, visit(c, (*stack, code))) for c in data.components]
        done[code] = _combine(data, assess(data.inputs, regimes[data.regime]), parts, regimes[data.regime])
        return done[code]

    for code in codes if codes is not None else list(systems):
        visit(code, ())
    return done


def _combine(
    data: SystemData, own: Outcome, parts: Sequence[tuple[str, Classification]], regime: Regime
) -> Classification:
    """Own rules plus components: the highest level wins; an undecided part that could go higher blocks."""
    reasons = list(own.reasons)
    levels = [r.level for r in own.reasons]
    undecided: list[tuple[int, tuple[str, ...]]] = list(own.pending)
    origin: dict[int, tuple[str, ...]] = {}
    crule = regime.component_rule
    for code, part in parts:
        exact = part.approved_level if part.approved_level is not None else part.proposed_level
        level = exact if exact is not None else part.minimum_level
        if exact is None:  # undetermined component: anything up to its maximum (5 if unbounded) is possible
            prefixed = tuple(f"{code}.{m}" for m in part.missing) or (f"{code}.approved_level",)
            undecided.append((part.maximum_level or 5, prefixed))
        if level is None:
            continue
        via = part.origin if part.approved_level is None else ()
        text = crule.text_via if via else crule.text
        fmt = {"component": code, "level": level, "via": " → ".join(via)}
        reasons.append(Reason(level, f"component:{code}", crule.basis.as_dict(),
                              {k: v.format(**fmt) for k, v in text.as_dict().items()}, component=code))
        levels.append(level)
        origin.setdefault(level, (code, *via))
    minimum = max(levels, default=None)
    raising = [missing for lv, missing in undecided if minimum is None or lv > minimum]
    missing = _sort_fields([m for group in raising for m in group], regime)
    note = None
    if minimum is None and not undecided:
        missing, note = _sort_fields(regime.fallback_missing, regime), regime.no_rule_note.as_dict()
    determined = minimum is not None and not raising
    reasons.sort(key=lambda r: (-r.level, r.component is not None, r.rule))
    from_component = minimum is not None and minimum not in {r.level for r in own.reasons}
    maximum = max([lv for lv, _ in undecided] + levels, default=None)
    return Classification(
        system=data.code, name=data.name, regime=regime.regime,
        proposed_level=minimum if determined else None,
        proposed_status="proposed" if determined else "undetermined",
        minimum_level=minimum, maximum_level=maximum, reasons=tuple(reasons), missing=missing, note=note,
        origin=origin.get(minimum, ()) if from_component and minimum is not None else (),
        approved_level=data.approved_level,
    )


# ---------------------------------------------------------------- database service


def system_data(system: System, regime: Regime, components: Sequence[str]) -> SystemData:
    """Read the regime's declared input fields off the model (a field the model lacks counts as absent)."""
    inputs = {name: getattr(system, name, None) for name in regime.fields}
    return SystemData(system.code, system.name, system.regime or "decree85", inputs, tuple(components),
                      system.approved_level)


def _load_all(session: Session, catalogs: Sequence[Path]) -> tuple[dict[str, System], dict[str, SystemData],
                                                                      dict[str, Regime]]:
    rows = list(session.exec(select(System).order_by(col(System.code))))
    by_id = {s.id: s for s in rows}
    children: dict[str, list[str]] = {s.code: [] for s in rows}
    for link in session.exec(select(SystemComponent)):
        parent, child = by_id.get(link.parent_id), by_id.get(link.child_id)
        if parent is not None and child is not None:
            children[parent.code].append(child.code)
    regimes = {name: load_regime(name, catalogs) for name in {s.regime or "decree85" for s in rows}}
    data = {s.code: system_data(s, regimes[s.regime or "decree85"], sorted(children[s.code])) for s in rows}
    return {s.code: s for s in rows}, data, regimes


_TRACKED = ("proposed_level", "proposed_status", "proposed_reasons", "proposed_missing")


def classify_systems(
    session: Session, codes: list[str] | None, actor: str, *, catalogs: Sequence[Path] = ()
) -> list[Classification]:
    """Classify ``codes`` (None = every system), store the proposal, audit each change. Unknown code: 2."""
    models, data, regimes = _load_all(session, catalogs)
    wanted = list(dict.fromkeys(codes)) if codes is not None else list(models)
    unknown = [c for c in wanted if c not in models]
    if unknown:
        raise NotFoundError(_("unknown system(s): {codes}").format(codes=", ".join(unknown)))
    tree = classify_tree(data, regimes, wanted)
    results = []
    for code in wanted:
        result, system = tree[code], models[code]
        before = {k: getattr(system, k) for k in _TRACKED}
        after = {"proposed_level": result.proposed_level, "proposed_status": result.proposed_status,
                 "proposed_reasons": [r.stored() for r in result.reasons],
                 "proposed_missing": list(result.missing)}
        changed = before != after
        if changed:
            for key, value in after.items():
                setattr(system, key, value)
            session.add(system)
            audit.record(session, actor, "level.classify", "system", code, before=before, after=after,
                         details={"regime": result.regime})
        results.append(_with_approval(result, system, changed))
    session.flush()
    return results


def _with_approval(result: Classification, system: System, changed: bool) -> Classification:
    decision = None
    if system.approved_level is not None:
        decision = {"ref": system.decision_ref, "date": system.decision_date, "approver": system.approver,
                    "reason": system.approval_reason}
    return replace(result, approved_level=system.approved_level, decision=decision, changed=changed)
