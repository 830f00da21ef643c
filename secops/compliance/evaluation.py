"""From a host's raw facts to one result per check: the only place that talks to the catalog and probes.

Pure apart from the catalog: no database and no network, so a stored bundle re-evaluates exactly as a
fresh one (``check rescore``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secops.collect.bundle import FactSpec, RawFact
from secops.compliance.waivers import WaiverIndex

LINUX_FAMILIES = frozenset(
    {
        "linux",
        "ubuntu",
        "debian",
        "rhel",
        "redhat",
        "centos",
        "rocky",
        "almalinux",
        "oracle",
        "fedora",
        "suse",
        "sles",
        "opensuse",
        "alpine",
        "amazon",
    }
)


@dataclass(frozen=True)
class HostContext:
    """What a host's results depend on besides its facts: who it is and its system's level and zone."""

    host_id: int | None
    host_name: str
    system_id: int | None
    level: int | None
    zone: str | None
    os: str | None = None


@dataclass
class Evaluated:
    check_id: str
    status: str
    original_status: str
    severity: str
    requirements: list[str]
    expected: Any = None
    observed: Any = None
    detail: str = ""
    waiver_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


NETWORK = "network"


def canonical_hash(facts: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of a fact bundle."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def platform_matches(platform: str | None, host_os: str | None) -> bool:
    """Linux checks run on hosts whose OS is unset or a Linux family; other platforms need an exact match."""
    platform = (platform or "linux").lower()
    if platform in ("any", "all"):
        return True
    os_name = (host_os or "linux").lower()
    if platform == "linux":
        return os_name in LINUX_FAMILIES
    return os_name == platform


def is_network(check: Any) -> bool:
    """Port-policy checks read network observations (nmap), not facts collected on the host."""
    return getattr(check, "platform", None) == NETWORK


def host_checks(catalog: Any, host_os: str | None) -> list[Any]:
    """The checks whose facts are collected on the host itself (its platform), in id order."""
    return [
        c
        for _, c in sorted(catalog.checks.items())
        if not is_network(c) and platform_matches(getattr(c, "platform", None), host_os)
    ]


def checks_for(catalog: Any, host_os: str | None) -> list[Any]:
    """Every check evaluated on a host: its platform's checks plus the network checks (any OS), in id order."""
    return [
        c
        for _, c in sorted(catalog.checks.items())
        if is_network(c) or platform_matches(getattr(c, "platform", None), host_os)
    ]


def observed_to_json(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Network facts → JSON for the bundle (an unavailable fact keeps its status and reason)."""
    from secops.probes.outcome import FactUnavailable

    return {
        fid: {"unavailable": v.status, "reason": v.reason} if isinstance(v, FactUnavailable) else v
        for fid, v in facts.items()
    }


def observed_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    from secops.probes.outcome import FactUnavailable

    return {
        fid: FactUnavailable(v["unavailable"], v["reason"]) if isinstance(v, dict) and "unavailable" in v else v
        for fid, v in data.items()
    }


def fact_specs(catalog: Any, checks: Iterable[Any]) -> list[FactSpec]:
    """The collection commands needed by ``checks`` (each fact once, in id order)."""
    wanted = sorted({f for c in checks for f in getattr(c, "facts", [])})
    specs: list[FactSpec] = []
    for fid in wanted:
        spec = catalog.facts.get(fid)
        if spec is None:
            continue
        if isinstance(spec, FactSpec):
            specs.append(spec)
        else:
            specs.append(
                FactSpec(
                    id=fid,
                    command=spec.command,
                    root=bool(getattr(spec, "root", False)),
                    timeout=float(getattr(spec, "timeout", 20.0)),
                )
            )
    return specs


def raw_from_json(facts: Mapping[str, Any]) -> dict[str, RawFact]:
    return {fid: RawFact.from_json(dict(value)) for fid, value in facts.items()}


def _json_safe(value: Any) -> Any:
    """Expected/observed values go into JSON columns: keep JSON types, stringify the rest."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def evaluate_host(
    catalog: Any,
    host: HostContext,
    raw: Mapping[str, RawFact] | None,
    error: str | None,
    waivers: WaiverIndex,
    observed: Mapping[str, Any] | None = None,
) -> list[Evaluated]:
    """One result per applicable check. A host that could not be collected gets ``error`` on its host
    checks, with the reason; network checks read ``observed`` (nmap observations), so they are evaluated
    even then. An exception inside a probe becomes that check's error (never a silent pass)."""
    from secops.probes import evaluate, parse_facts

    checks = checks_for(catalog, host.os)
    facts: dict[str, Any] = {}
    parse_error: str | None = None
    if error is None and raw is not None:
        try:
            facts = parse_facts(catalog, dict(raw))
        except Exception as exc:  # a parser bug must not sink the other hosts; it is reported per check
            parse_error = f"fact parsing failed: {type(exc).__name__}: {exc}"
    context = {"level": host.level, "zone": host.zone}
    network = observed_from_json(observed) if observed is not None else None
    out: list[Evaluated] = []
    for check in checks:
        expected: Any = None
        seen: Any = None
        if is_network(check) and network is None:
            status, detail = "skipped", "no network observations recorded for this host"
        elif is_network(check):
            status, detail, expected, seen = _evaluate(evaluate, check, network or {}, context)
        elif error is not None:
            status, detail = "error", error
        elif parse_error is not None:
            status, detail = "error", parse_error
        else:
            status, detail, expected, seen = _evaluate(evaluate, check, facts, context)
        waiver = waivers.match(check.id, host.host_name, host.system_id, status)
        out.append(
            Evaluated(
                check_id=check.id,
                status="waived" if waiver else status,
                original_status=status,
                severity=str(getattr(check, "severity", "medium")),
                requirements=list(getattr(check, "requirements", [])),
                expected=expected,
                observed=seen,
                detail=detail,
                waiver_id=waiver.id if waiver else None,
            )
        )
    return out


def _evaluate(
    evaluate: Any, check: Any, facts: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[str, str, Any, Any]:
    """(status, detail, expected, observed) of one check; a probe exception is that check's error."""
    try:
        outcome = evaluate(check, facts, context)
    except Exception as exc:  # reported as this check's error with the cause
        return "error", f"evaluation failed: {type(exc).__name__}: {exc}", None, None
    return (str(outcome.status), str(outcome.detail or ""), _json_safe(outcome.expected),
            _json_safe(outcome.observed))
