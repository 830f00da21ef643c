"""The scope guard: nothing reaches nmap unless it lies wholly inside a declared Scope.

Targets are a scope name, an IP address, a CIDR block or a hostname. Hostnames are resolved here and the
resolved addresses — not the name — go to nmap, so a second, different answer cannot widen the scan.
Anything that looks like an option, carries whitespace or characters outside ``[A-Za-z0-9.:/-]``, or uses
nmap's own range syntax is refused before any lookup happens.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from secops.errors import InputError
from secops.i18n import _
from secops.models.scope import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], list[str]]
MAX_ADDRESSES = 65_536  # one /16 per run: bounds nmap's run time and the size of its XML
_ALLOWED = re.compile(r"^[A-Za-z0-9.:/-]+$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_RANGE_LIKE = re.compile(r"^[0-9.:-]+$")


class TargetRefused(InputError):
    """A target that may not be scanned (exit 2, nmap never starts)."""


@dataclass(frozen=True)
class DeclaredScope:
    id: int
    name: str
    network: Network
    zone: str | None


@dataclass
class ScanPlan:
    """What the guard allows: the exact addresses/blocks for nmap and the scope they fall in."""

    targets: list[str]  # as the operator typed them
    nmap_targets: list[str]  # canonical addresses / CIDR blocks handed to nmap
    scope: DeclaredScope
    ipv6: bool
    addresses: int
    scopes: list[str] = field(default_factory=list)


def declared_scopes(session: Session) -> list[DeclaredScope]:
    scopes = []
    for scope in session.exec(select(Scope).order_by(Scope.name)).all():
        try:
            network = ipaddress.ip_network(scope.cidr.strip(), strict=False)
        except ValueError as exc:
            raise InputError(
                _("scope {name}: {cidr!r} is not a CIDR block").format(name=scope.name, cidr=scope.cidr)
            ) from exc
        assert scope.id is not None
        scopes.append(DeclaredScope(scope.id, scope.name, network, scope.zone))
    return scopes


def check_syntax(target: str) -> None:
    """Refuse option-like targets, whitespace, shell characters and nmap range syntax (no lookup yet)."""
    if not target:
        raise TargetRefused(_("empty target"))
    if target.startswith("-"):
        raise TargetRefused(_("target {target!r} looks like an option; refused").format(target=target))
    if any(ch.isspace() for ch in target):
        raise TargetRefused(_("target {target!r} contains whitespace; refused").format(target=target))
    if not _ALLOWED.match(target):
        raise TargetRefused(
            _("target {target!r} contains characters that are not allowed; refused").format(target=target)
        )


def _parse(target: str, resolver: Resolver) -> list[Network]:
    try:
        return [ipaddress.ip_network(target, strict=False)]
    except ValueError:
        pass
    if "/" in target or _RANGE_LIKE.match(target):
        raise TargetRefused(_("target {target!r} is not an IP address, CIDR block or hostname").format(target=target))
    if not _HOSTNAME.match(target):
        raise TargetRefused(_("target {target!r} is not a valid hostname").format(target=target))
    addresses = resolver(target)
    if not addresses:
        raise TargetRefused(_("target {target!r} does not resolve to any address").format(target=target))
    return [ipaddress.ip_network(a) for a in addresses]


def resolve(hostname: str) -> list[str]:
    """Every address ``hostname`` resolves to (the guard checks them all)."""
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    return sorted({str(ipaddress.ip_address(str(info[4][0]).split("%")[0])) for info in infos})


def _containing(network: Network, scopes: list[DeclaredScope]) -> DeclaredScope | None:
    holders = [s for s in scopes if s.network.version == network.version and network.subnet_of(s.network)]  # type: ignore[arg-type]
    return min(holders, key=lambda s: s.network.num_addresses) if holders else None


def plan_scan(session: Session, targets: list[str], resolver: Resolver = resolve) -> ScanPlan:
    """Check every target against the declared scopes; raise ``TargetRefused`` naming the first bad one."""
    if not targets:
        raise TargetRefused(_("no target given"))
    for target in targets:
        check_syntax(target)
    scopes = declared_scopes(session)
    by_name = {s.name: s for s in scopes}
    nmap_targets: list[str] = []
    holders: list[DeclaredScope] = []
    total = 0
    for target in targets:
        networks = [by_name[target].network] if target in by_name else _parse(target, resolver)
        for network in networks:
            holder = _containing(network, scopes)
            if holder is None:
                shown = target if str(network) in (target, f"{target}/32", f"{target}/128") else f"{target} ({network})"
                raise TargetRefused(_("target {target} is outside every declared scope; refused").format(target=shown))
            holders.append(holder)
            total += network.num_addresses
            text = str(network.network_address) if network.num_addresses == 1 else str(network)
            if text not in nmap_targets:
                nmap_targets.append(text)
    if total > MAX_ADDRESSES:
        raise TargetRefused(
            _("{count} addresses in one run; the limit is {limit}").format(count=total, limit=MAX_ADDRESSES)
        )
    versions = {ipaddress.ip_network(t).version for t in nmap_targets}
    if len(versions) > 1:
        raise TargetRefused(_("IPv4 and IPv6 targets must be scanned in separate runs"))
    return ScanPlan(
        targets=list(targets),
        nmap_targets=nmap_targets,
        scope=holders[0],
        ipv6=versions == {6},
        addresses=total,
        scopes=sorted({h.name for h in holders}),
    )
