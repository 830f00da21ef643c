"""Scoring a system against its security level (pure: no database, no I/O).

Rules (printed with every score so a manager can check them):
- applicable requirements: lowest level ≤ the system's level (approved, else proposed);
- a requirement is **not met** when any of its checks fails on any host of the system, or a valid
  attestation says not_met; it is **met** when every check passes (waived counts, and is reported) or is
  not applicable on every host, or a valid attestation says met; otherwise it is **not evaluated**
  (errors, skips and missing results never count as passing);
- score = met / (met + not met); coverage = (met + not met) / applicable;
- achieved level: the highest level L such that every requirement of level ≤ L is met (levels are
  cumulative, Circular 03 Art. 9); the gap to the next level lists what stands in the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_LEVEL = 5
PASSING = frozenset({"pass", "waived"})
NEUTRAL = frozenset({"not_applicable"})
FORMULA = (
    "score = met / (met + not met) = {met} / ({met} + {not_met}) = {score}; "
    "coverage = (met + not met) / applicable = ({met} + {not_met}) / {applicable} = {coverage}"
)


class RequirementLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def min_level(self) -> int: ...
    @property
    def checks(self) -> list[str]: ...


@dataclass(frozen=True)
class HostResult:
    """One check's effective status on one host (``status`` already reflects waivers in force)."""

    host: str
    check: str
    status: str


@dataclass
class RequirementState:
    id: str
    min_level: int
    state: str  # met | not_met | not_evaluated
    via: str | None  # checks | attestation | None
    blocking: list[dict[str, str]] = field(default_factory=list)  # results in the way: check, host, status
    waived: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "min_level": self.min_level,
            "status": self.state,
            "via": self.via,
            "checks": self.blocking,
            "waived": self.waived,
        }


def requirement_state(
    req: RequirementLike,
    results: Mapping[str, Sequence[HostResult]],
    hosts: Sequence[str],
    attestation: str | None,
) -> RequirementState:
    """Decide one requirement from its check results on the system's hosts and an attestation status."""
    rows = {(r.check, r.host): r for check in req.checks for r in results.get(check, ()) if r.host in hosts}
    failing = [r for r in rows.values() if r.status == "fail"]
    waived = [
        {"check": r.check, "host": r.host, "status": r.status} for r in rows.values() if r.status == "waived"
    ]

    def entry(check: str, host: str, status: str) -> dict[str, str]:
        return {"check": check, "host": host, "status": status}

    if failing:
        blocking = [entry(r.check, r.host, r.status) for r in failing]
        return RequirementState(req.id, req.min_level, "not_met", "checks", blocking, waived)
    if attestation == "not_met":
        return RequirementState(req.id, req.min_level, "not_met", "attestation", [], waived)
    gaps: list[dict[str, str]] = []
    passed = 0
    for check in req.checks:
        for host in hosts:
            found = rows.get((check, host))
            status = found.status if found else "missing"
            if status in PASSING:
                passed += 1
            elif status not in NEUTRAL:
                gaps.append(entry(check, host, status))
    if req.checks and hosts and not gaps and passed:
        return RequirementState(req.id, req.min_level, "met", "checks", [], waived)
    if attestation == "met":
        return RequirementState(req.id, req.min_level, "met", "attestation", [], waived)
    if not req.checks:
        gaps = [entry("manual", "", "attestation_missing")]
    return RequirementState(req.id, req.min_level, "not_evaluated", None, gaps, waived)


class Ratios:
    """Score (met among the evaluated requirements) and coverage (evaluated among the applicable): one
    definition for the full scorer and the reports' bulk scorer."""

    met: int
    not_met: int
    not_evaluated: int

    @property
    def applicable(self) -> int:
        return self.met + self.not_met + self.not_evaluated

    @property
    def score(self) -> float | None:
        evaluated = self.met + self.not_met
        return round(self.met / evaluated, 4) if evaluated else None

    @property
    def coverage(self) -> float | None:
        return round((self.met + self.not_met) / self.applicable, 4) if self.applicable else None


@dataclass
class SystemScore(Ratios):
    system: str
    level: int | None
    requirements: list[RequirementState]
    met: int = 0
    not_met: int = 0
    not_evaluated: int = 0
    achieved_level: int = 0
    gap: dict[str, Any] | None = None
    hosts: list[str] = field(default_factory=list)

    def formula(self, template: str | None = None) -> str:
        """The arithmetic behind the two figures, with the actual numbers (``template``: a translation)."""
        score = "n/a" if self.score is None else f"{self.score:.1%}"
        coverage = "n/a" if self.coverage is None else f"{self.coverage:.1%}"
        return (template or FORMULA).format(
            met=self.met, not_met=self.not_met, applicable=self.applicable, score=score, coverage=coverage
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "level": self.level,
            "score": self.score,
            "coverage": self.coverage,
            "achieved_level": self.achieved_level,
            "met": self.met,
            "not_met": self.not_met,
            "not_evaluated": self.not_evaluated,
            "applicable": self.applicable,
            "formula": self.formula(),
            "gap_to_next_level": self.gap,
            "hosts": self.hosts,
        }


def score_system(
    system: str,
    level: int | None,
    requirements: Iterable[RequirementLike],
    results: Iterable[HostResult],
    hosts: Sequence[str],
    attestations: Mapping[str, str],
) -> SystemScore:
    """Score one system. ``attestations`` maps requirement id to the status of its valid attestation."""
    by_check: dict[str, list[HostResult]] = {}
    for r in results:
        by_check.setdefault(r.check, []).append(r)
    states = [requirement_state(req, by_check, hosts, attestations.get(req.id)) for req in requirements]
    states.sort(key=lambda s: (s.min_level, s.id))
    out = SystemScore(system=system, level=level, requirements=states, hosts=list(hosts))
    if level is not None:
        for s in states:
            if s.min_level <= level:
                setattr(out, s.state, getattr(out, s.state) + 1)
    achieved = 0
    for lvl in range(1, MAX_LEVEL + 1):
        if all(s.state == "met" for s in states if s.min_level <= lvl):
            achieved = lvl
        else:
            break
    out.achieved_level = achieved
    if achieved < MAX_LEVEL:
        nxt = achieved + 1
        missing = [s.to_json() for s in states if s.min_level <= nxt and s.state != "met"]
        out.gap = {"level": nxt, "requirements": missing}
    return out
