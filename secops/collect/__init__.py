"""Fact collection: transports (local, ssh) run one batched script per host and return raw facts.

Public API: ``Target`` (where and how to reach a host), ``collect_hosts`` (many hosts, a thread pool),
``collect_one``; ``hostkeys`` verifies SSH host keys; ``bundle`` is the contract with the checks.
"""

from secops.collect.bundle import CollectResult, FactSpec, RawFact
from secops.collect.errors import ERROR_KINDS, describe_kind
from secops.collect.runner import DEFAULT_CAP, collect_hosts, collect_one
from secops.collect.target import Target

__all__ = [
    "DEFAULT_CAP",
    "ERROR_KINDS",
    "CollectResult",
    "FactSpec",
    "RawFact",
    "Target",
    "collect_hosts",
    "collect_one",
    "describe_kind",
]
