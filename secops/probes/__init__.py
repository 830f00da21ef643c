"""Probes: parse raw fact outputs and evaluate checks against them. Pure functions, no I/O."""

from secops.probes.engine import evaluate, select
from secops.probes.facts import ABSENT, UNAVAILABLE, SampleResult, parse_fact, parse_facts, run_samples
from secops.probes.functions import FUNCTIONS, register
from secops.probes.outcome import FactUnavailable, Outcome, ProbeError, Verdict
from secops.probes.parsers import PARSERS, parser

__all__ = [
    "ABSENT",
    "FUNCTIONS",
    "PARSERS",
    "UNAVAILABLE",
    "FactUnavailable",
    "Outcome",
    "ProbeError",
    "SampleResult",
    "Verdict",
    "evaluate",
    "parse_fact",
    "parse_facts",
    "parser",
    "register",
    "run_samples",
    "select",
]
