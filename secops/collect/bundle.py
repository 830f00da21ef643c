"""The contract between fact collection (transports) and check evaluation (probes).

Checks never touch the network: a transport runs every ``FactSpec`` of a host in one batch and returns a
``CollectResult`` of ``RawFact`` outputs; the catalog's parsers turn those into structured facts and probes
evaluate checks against them. Stored as a FactBundle, the raw facts can be re-scored at any time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FactSpec:
    """One fact to collect: a fixed command of our own catalog (never user input), run by ``sh``.

    ``root``: needs root (run through ``sudo -n`` when the host allows it, else reported as skipped).
    ``timeout``: seconds for this command inside the host's deadline.
    """

    id: str
    command: str
    root: bool = False
    timeout: float = 20.0


@dataclass(frozen=True)
class RawFact:
    """What one fact command produced. ``rc`` is None when it did not run to completion."""

    rc: int | None
    stdout: str
    stderr: str = ""
    truncated: bool = False
    timed_out: bool = False
    skipped: str | None = None  # why it was not run (e.g. "needs root; host has no sudo")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RawFact:
        return cls(**data)


@dataclass
class CollectResult:
    """The outcome of collecting one host. ``error`` set means the host could not be collected at all."""

    host: str
    transport: str
    facts: dict[str, RawFact] = field(default_factory=dict)
    host_key_fingerprint: str | None = None
    error: str | None = None  # e.g. "unreachable: connection refused", "auth failed", "timeout after 60s"
    # unreachable | auth | host_key_unknown | host_key_changed | timeout | dropped | other
    error_kind: str | None = None
    started: float = 0.0
    finished: float = 0.0
