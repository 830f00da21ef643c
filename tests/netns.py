"""Test hosts in network namespaces (``secops-…``): each has its own address, /etc overlays and processes.

``ip netns exec NAME`` bind-mounts ``/etc/netns/NAME/*`` over ``/etc/*`` inside the namespace, so each test
host can carry its own ``/etc/ssh``, ``/etc/login.defs``, ``/etc/passwd``… without touching the machine's own.
Addresses: ``10.253.<index>.2`` inside the namespace, ``10.253.<index>.1`` on our side of a veth pair; the
traffic never leaves this machine. Needs root; tests skip without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

IP = shutil.which("ip") or "/usr/sbin/ip"


def available() -> bool:
    return os.geteuid() == 0 and Path(IP).exists()


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IP, *args], check=check, capture_output=True, text=True, timeout=30)


@dataclass
class NetnsHost:
    name: str
    index: int
    address: str
    gateway: str
    etc: Path

    def exec_argv(self, *argv: str) -> list[str]:
        """The argument list that runs ``argv`` inside the namespace (with its /etc overlays)."""
        return [IP, "netns", "exec", self.name, *argv]

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.exec_argv(*argv), capture_output=True, text=True, timeout=timeout, check=False)

    def popen(self, *argv: str, **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.exec_argv(*argv), **kwargs)  # type: ignore[call-overload, no-any-return]

    def write_etc(self, relpath: str, content: str, mode: int = 0o644) -> Path:
        """Write ``/etc/<relpath>`` as seen inside the namespace (an overlay under /etc/netns/NAME)."""
        path = self.etc / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)
        return path


def cleanup(name: str, index: int) -> None:
    _run("netns", "del", name, check=False)
    _run("link", "del", f"svh{index}", check=False)
    shutil.rmtree(Path("/etc/netns") / name, ignore_errors=True)


@contextmanager
def netns_host(tag: str, index: int) -> Iterator[NetnsHost]:
    """Create namespace ``secops-<tag>`` reachable at 10.253.<index>.2; removed afterwards.

    ``index`` (1–250) must be unique among namespaces alive at the same time (pick per test module).
    """
    name = f"secops-{tag}"
    cleanup(name, index)
    host_if, ns_if = f"svh{index}", f"svn{index}"
    gateway, address = f"10.253.{index}.1", f"10.253.{index}.2"
    etc = Path("/etc/netns") / name
    try:
        _run("netns", "add", name)
        _run("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _run("link", "set", ns_if, "netns", name)
        _run("addr", "add", f"{gateway}/30", "dev", host_if)
        _run("link", "set", host_if, "up")
        _run("-n", name, "addr", "add", f"{address}/30", "dev", ns_if)
        _run("-n", name, "link", "set", ns_if, "up")
        _run("-n", name, "link", "set", "lo", "up")
        etc.mkdir(parents=True, exist_ok=True)
        yield NetnsHost(name=name, index=index, address=address, gateway=gateway, etc=etc)
    finally:
        pids = subprocess.run([IP, "netns", "pids", name], capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), 9)
        cleanup(name, index)
