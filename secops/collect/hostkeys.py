"""SSH host-key verification against OpenSSH known_hosts files or a pinned ``SHA256:`` fingerprint.

Never trust on first use: an unknown key is refused with its fingerprint and the ``secops host trust NAME``
hint, a key that differs from the recorded one is refused as changed. The known_hosts reader follows
sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT": comma-separated patterns (``*``, ``?``, ``!negation``), hashed
``|1|salt|hash`` names, ``[host]:port`` for non-22 ports, ``@revoked`` and (ignored) ``@cert-authority``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secops.collect.errors import HostKeyChanged, HostKeyUnknown
from secops.errors import InputError

if TYPE_CHECKING:
    import paramiko

    from secops.collect.target import Target


def fingerprint_blob(blob: bytes) -> str:
    """OpenSSH's ``SHA256:`` fingerprint (unpadded base64 of the SHA-256 of the key blob)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def fingerprint(key: paramiko.PKey) -> str:
    return fingerprint_blob(key.asbytes())


def normalize_fingerprint(value: str) -> str:
    """Accept ``SHA256:xxx`` with or without base64 padding; anything else is an input error."""
    text = value.strip()
    if not text.startswith("SHA256:"):
        raise InputError(f"not a SHA256 fingerprint: {value!r} (expected SHA256:…, as ssh-keygen -l prints)")
    body = text.removeprefix("SHA256:").rstrip("=")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"not a SHA256 fingerprint: {value!r} (bad base64)") from None
    if len(raw) != 32:
        raise InputError(f"not a SHA256 fingerprint: {value!r} (wrong length)")
    return "SHA256:" + body


def host_pattern(address: str, port: int) -> str:
    """The name known_hosts files record for a host: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


@dataclass(frozen=True)
class KnownKey:
    key_type: str
    blob: bytes
    marker: str | None  # None | "revoked" | "cert-authority"
    source: str  # FILE:LINE

    @property
    def fingerprint(self) -> str:
        return fingerprint_blob(self.blob)


def _hashed_match(entry: str, name: str) -> bool:
    try:
        _, magic, salt64, hash64 = entry.split("|")
        if magic != "1":
            return False
        salt, want = base64.b64decode(salt64), base64.b64decode(hash64)
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), want)


def _glob(pattern: str, name: str) -> bool:
    """ssh's wildcards: only ``*`` and ``?`` (``[`` is literal, as in ``[host]:port``)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, name.lower()) is not None


def _names_match(field: str, name: str) -> bool:
    """A host field matches if some pattern matches and no negated pattern does (ssh's match_hostname)."""
    if field.startswith("|"):
        return _hashed_match(field, name)
    matched = False
    for pattern in field.split(","):
        negated = pattern.startswith("!")
        pat = pattern[1:] if negated else pattern
        if _glob(pat, name):
            if negated:
                return False
            matched = True
    return matched


def read_known_hosts(path: Path, name: str) -> list[KnownKey]:
    """The keys ``path`` records for ``name`` (a missing file records nothing; garbage lines are skipped)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"{path}: cannot read known_hosts: {exc.strerror}") from exc
    found: list[KnownKey] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        fields = raw.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = None
        if fields[0].startswith("@"):
            marker = fields.pop(0)[1:]
        if len(fields) < 3 or not _names_match(fields[0], name):
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        found.append(KnownKey(fields[1], blob, marker, f"{path}:{lineno}"))
    return found


def known_keys(target: Target) -> list[KnownKey]:
    name = host_pattern(target.address, target.port)
    return [k for path in target.known_hosts_files() for k in read_known_hosts(path, name)]


def preferred_key_types(target: Target, available: Sequence[str]) -> list[str] | None:
    """Ask for a key type we hold a record of (as ssh does), so a second key type is not "unknown"."""
    recorded = {k.key_type for k in known_keys(target) if k.marker is None}
    if "ssh-rsa" in recorded:
        recorded |= {"rsa-sha2-512", "rsa-sha2-256"}
    preferred = [t for t in available if t in recorded]
    return preferred or None


def verify(target: Target, key_type: str, blob: bytes) -> str:
    """Check the server's key; returns its fingerprint or raises HostKeyUnknown / HostKeyChanged."""
    fp = fingerprint_blob(blob)
    hint = f"check it with the host's administrator, then run: secops host trust {target.name}"
    records = known_keys(target)
    if any(k.marker == "revoked" and k.blob == blob for k in records):
        raise HostKeyChanged(f"host key {key_type} {fp} is marked @revoked in {records[0].source}",
                             fingerprint=fp)
    plain = [k for k in records if k.marker is None]
    if target.host_key:
        pinned = normalize_fingerprint(target.host_key)
        if pinned != fp:
            raise HostKeyChanged(
                f"HOST KEY CHANGED: server offered {key_type} {fp}, pinned is {pinned}; refusing to connect "
                "(possible man-in-the-middle). If the host was really re-keyed, verify the new key and "
                f"pin it with: secops host trust {target.name} --fingerprint SHA256:…",
                fingerprint=fp,
            )
    if any(k.blob == blob for k in plain):
        return fp
    base_type = "ssh-rsa" if key_type.startswith("rsa-sha2") else key_type
    same_type = [k for k in plain if k.key_type == base_type]
    if same_type:
        raise HostKeyChanged(
            f"HOST KEY CHANGED: server offered {key_type} {fp}, {same_type[0].source} records "
            f"{same_type[0].fingerprint}; refusing to connect (possible man-in-the-middle)",
            fingerprint=fp,
        )
    if target.host_key:
        return fp  # pinned fingerprint matched and no known_hosts record contradicts it
    where = ", ".join(str(p) for p in target.known_hosts_files()) or "no known_hosts file"
    raise HostKeyUnknown(f"unknown host key {key_type} {fp} (not in {where}); {hint}", fingerprint=fp)


def known_hosts_line(target: Target, key: paramiko.PKey) -> str:
    """The known_hosts line recording ``key`` for the target (for operators who keep files, and tests)."""
    return f"{host_pattern(target.address, target.port)} {key.get_name()} {key.get_base64()}"
