"""Where and how to reach one host: built from the inventory's Host row, frozen so threads can share it."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secops.errors import InputError

if TYPE_CHECKING:
    from secops.models import Host

TRANSPORTS = ("local", "ssh")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "root")


def _path(value: str | None, home: Path) -> Path | None:
    """``~`` is expanded; a relative path is relative to the secops home (where inventories keep keys)."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else home / path


@dataclass(frozen=True)
class Target:
    """One host to collect. ``host_key``: a pinned ``SHA256:…`` fingerprint; ``known_hosts``: an OpenSSH file.

    With neither, the operator's ``~/.ssh/known_hosts`` is consulted (as ``ssh`` would); an unknown key is
    refused either way.
    """

    name: str
    address: str
    transport: str = "ssh"
    user: str | None = None
    port: int = 22
    key: Path | None = None
    known_hosts: Path | None = None
    host_key: str | None = None
    sudo: bool = False

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise InputError(f"host {self.name}: unknown transport {self.transport!r} (use local or ssh)")
        if not 0 < self.port < 65536:
            raise InputError(f"host {self.name}: invalid SSH port {self.port}")

    @classmethod
    def from_host(cls, host: Host, home: Path) -> Target:
        return cls(
            name=host.name,
            address=host.address,
            transport=host.transport or "ssh",
            user=host.ssh_user or None,
            port=host.ssh_port or 22,
            key=_path(host.ssh_key, home),
            known_hosts=_path(host.known_hosts, home),
            host_key=host.host_key or None,
            sudo=bool(host.sudo),
        )

    @property
    def login(self) -> str:
        """The SSH user: the inventory's, else the operator's own name (as ``ssh`` does)."""
        return self.user or _os_user()

    def known_hosts_files(self) -> list[Path]:
        """The known_hosts files to check: the host's own, else (when nothing is pinned) the operator's."""
        if self.known_hosts is not None:
            return [self.known_hosts]
        if self.host_key:
            return []
        return [Path("~/.ssh/known_hosts").expanduser()]
