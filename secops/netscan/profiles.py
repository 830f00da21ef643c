"""Named nmap profiles: the only way arguments reach nmap (never a free-form string from the user).

Every profile gets ``-n`` (no reverse DNS: the resolver lies outside the scope) unless the operator asks
for names. Without raw sockets (not root, or root without CAP_NET_RAW) TCP profiles fall back to a
connect scan (``-sT``) with ``--unprivileged`` (nmap would otherwise trust uid 0) and say so; the UDP
profile cannot run at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from secops.errors import InputError
from secops.i18n import _

TLS_PORTS = "443,465,636,853,989,990,992,993,994,995,3269,5061,6697,8443,9443"


@dataclass(frozen=True)
class Profile:
    name: str
    args: tuple[str, ...]  # with raw sockets
    description: str
    raw_scan: str | None = "-sS"  # the raw-socket scan type, replaced by -sT without raw sockets
    needs_root: bool = False
    timeout: int = 3600


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("discovery", ("-sn",), "host discovery only (ping scan)", raw_scan=None, timeout=900),
        Profile("top-ports", ("-sS", "--top-ports", "1000"), "the 1,000 most common TCP ports"),
        Profile("full-tcp", ("-sS", "-p-"), "every TCP port (1–65535)", timeout=4 * 3600),
        Profile("services", ("-sS", "-sV", "--top-ports", "1000"), "top TCP ports with service/version detection"),
        Profile(
            "tls",
            ("-sS", "-sV", "--version-light", "--script", "ssl-enum-ciphers", "-p", TLS_PORTS),
            "TLS versions and cipher strength (ssl-enum-ciphers) on TLS ports",
        ),
        Profile(
            "udp-common",
            ("-sU", "--top-ports", "20"),
            "the 20 most common UDP ports",
            raw_scan=None,
            needs_root=True,
        ),
    )
}


@dataclass(frozen=True)
class NmapArguments:
    args: list[str]
    notes: list[str]


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError as exc:
        known = ", ".join(PROFILES)
        raise InputError(_("unknown profile {name!r}; choose one of: {known}").format(name=name, known=known)) from exc


def build_arguments(
    profile: Profile, *, privileged: bool, resolve_names: bool = False, ipv6: bool = False
) -> NmapArguments:
    """The argument list for ``profile`` (targets excluded), with notes to show the operator.

    ``privileged``: raw sockets are allowed (``service.raw_sockets_allowed``)."""
    notes: list[str] = []
    if profile.needs_root and not privileged:
        raise InputError(_("profile {name} needs root (raw sockets); run it as root").format(name=profile.name))
    args = list(profile.args)
    if not privileged:
        if profile.raw_scan is not None:
            args = ["-sT" if a == profile.raw_scan else a for a in args]
            notes.append(_("no raw sockets (not root, or no CAP_NET_RAW): using a TCP connect scan (-sT)"))
        elif profile.name == "discovery":
            notes.append(_("no raw sockets (not root, or no CAP_NET_RAW): discovery uses TCP connect probes"))
        args.append("--unprivileged")
    if ipv6:
        args.insert(0, "-6")
    args.append("-T4")
    if not resolve_names:
        args.append("-n")
    return NmapArguments(args=args, notes=notes)
