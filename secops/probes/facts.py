"""Raw fact outputs → parsed facts, and the embedded sample tests of checks (run by ``secops check test``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secops.collect.bundle import RawFact
from secops.probes.engine import evaluate
from secops.probes.outcome import FactUnavailable, Outcome
from secops.probes.parsers import PARSERS

if TYPE_CHECKING:
    from secops.catalog.loader import Catalog
    from secops.catalog.schema import Check, Sample

ABSENT = "__SECOPS_ABSENT__"
UNAVAILABLE = "__SECOPS_UNAVAILABLE__"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def parse_fact(catalog: Catalog, fact_id: str, raw: RawFact) -> Any:
    """One raw output → its parsed value, or ``FactUnavailable`` (error/skipped/not_applicable + reason)."""
    fact = catalog.fact_defs[fact_id]
    if raw.skipped:
        return FactUnavailable("skipped", raw.skipped)
    if raw.timed_out:
        return FactUnavailable("error", f"command timed out after {fact.timeout:g}s")
    if raw.rc is None:
        return FactUnavailable("error", "command did not complete")
    if raw.truncated:
        return FactUnavailable("error", "output exceeded the size cap and was truncated")
    if raw.rc != 0:
        reason = _first_line(raw.stderr) or _first_line(raw.stdout) or "no output"
        return FactUnavailable("error", f"command exited with status {raw.rc}: {reason[:200]}")
    head = _first_line(raw.stdout)
    if head.startswith(ABSENT):
        return FactUnavailable("not_applicable", head[len(ABSENT) :].strip(" :") or "not installed")
    if head.startswith(UNAVAILABLE):
        return FactUnavailable("skipped", head[len(UNAVAILABLE) :].strip(" :") or "cannot be determined here")
    try:
        return PARSERS[fact.parser](raw.stdout, fact.options)
    except (ValueError, KeyError, IndexError) as exc:
        return FactUnavailable("error", f"cannot parse the output of {fact_id}: {exc}")


def parse_facts(catalog: Catalog, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Raw outputs of a host (``RawFact`` per command fact; observed facts pass through) → parsed facts."""
    parsed: dict[str, Any] = {}
    for fact_id, value in raw.items():
        if fact_id not in catalog.fact_defs:
            continue
        if catalog.fact_defs[fact_id].source == "observed" or not isinstance(value, RawFact):
            parsed[fact_id] = value
        else:
            parsed[fact_id] = parse_fact(catalog, fact_id, value)
    return parsed


def sample_raw(catalog: Catalog, sample: Sample) -> dict[str, Any]:
    """A sample's fact inputs as a transport would return them (text = stdout of a successful command)."""
    raw: dict[str, Any] = {}
    for fact_id, value in sample.facts.items():
        if catalog.fact_defs[fact_id].source == "observed":
            raw[fact_id] = value
        elif isinstance(value, str):
            raw[fact_id] = RawFact(rc=0, stdout=value)
        elif isinstance(value, Mapping):
            raw[fact_id] = RawFact(
                rc=value.get("rc", 0),
                stdout=value.get("stdout", ""),
                stderr=value.get("stderr", ""),
                truncated=bool(value.get("truncated", False)),
                timed_out=bool(value.get("timed_out", False)),
                skipped=value.get("skipped"),
            )
        else:
            raw[fact_id] = value
    return raw


@dataclass(frozen=True)
class SampleResult:
    check: str
    index: int
    name: str
    expected: str
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.status == self.expected


def run_samples(catalog: Catalog, checks: Sequence[Check] | None = None) -> list[SampleResult]:
    """Evaluate every embedded sample of ``checks`` (default: all) through the real parsers and engine."""
    results: list[SampleResult] = []
    for check in checks if checks is not None else catalog.checks.values():
        for index, sample in enumerate(check.tests):
            facts = parse_facts(catalog, sample_raw(catalog, sample))
            context = {"level": None, "zone": None, **sample.context}
            outcome = evaluate(check, facts, context)
            results.append(
                SampleResult(check.id, index, sample.name or f"sample {index + 1}", sample.expect, outcome)
            )
    return results
