"""Value types of evaluation: the outcome of a check, the verdict of one rule, an unavailable fact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

OutcomeStatus = Literal["pass", "fail", "error", "skipped", "not_applicable"]


@dataclass(frozen=True)
class Outcome:
    """What one check concluded on one host. ``waived`` and ``manual`` are applied later by the runner."""

    status: OutcomeStatus
    expected: str = ""
    observed: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "expected": self.expected,
            "observed": self.observed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Verdict:
    """The result of one rule: whether it holds, what it wanted, what it saw, and which parts failed."""

    ok: bool
    expected: str
    observed: str
    failures: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class FactUnavailable:
    """A fact without a value: its command failed (error), did not run (skipped) or found the feature absent.

    A check that needs it takes this status and reason; it never passes silently.
    """

    status: Literal["error", "skipped", "not_applicable"]
    reason: str


class ProbeError(Exception):
    """A rule cannot be evaluated on the value it got (e.g. a numeric comparison on text)."""
