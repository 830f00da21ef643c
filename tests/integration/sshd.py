"""A test bed of real, private sshd servers: on loopback ports and in ``secops-…`` network namespaces.

Facts this follows (measured here): sshd is started by its absolute path with absolute paths for every file
(config, host key, ``-E`` log); ``/run/sshd`` must exist with mode 0755; with ``UsePAM no`` a ``useradd`` user
is locked until ``usermod -p '*'``; the login user is a clean ``secops-…`` test user, never root (root's
start-up files add ~85 ms to every command). Each namespace host gets its own ``/etc/ssh``,
``/etc/login.defs``, ``/etc/passwd``… through ``/etc/netns/NAME/`` overlays; since ``/etc/passwd`` and
``/etc/shadow`` are overlaid whole, the overlay copies the machine's (holding the test user) and adds to it.

Use from a test module: ``from tests.integration.sshd import *  # noqa: F403`` brings in the fixtures
(exactly ``__all__``: pytest resolves a fixture's dependencies by name, so they come together); import the
helpers you need by name.

``weak_host`` / ``hardened_host`` are :class:`TestHost` objects: ``.target()`` gives a ``Target`` and
``.inventory_fields()`` the inventory's ``ssh:`` mapping. Namespace indexes 40–69 belong to this module's
users: 40 weak, 41 hardened, 42–49 collection tests, 50–69 free.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from secops.collect.hostkeys import fingerprint_blob
from secops.collect.target import Target
from tests import netns

__all__ = ["hardened_host", "loopback_host", "ssh_user", "sshd_workdir", "weak_host"]

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
WEAK_INDEX, HARDENED_INDEX = 40, 41


def available() -> tuple[bool, str]:
    """Whether this machine can run the bed (root, sshd, ssh-keygen, useradd)."""
    if os.geteuid() != 0:
        return False, "needs root (useradd, sshd)"
    for tool in (SSHD, SSH_KEYGEN, "/usr/sbin/useradd"):
        if not Path(tool).exists():
            return False, f"{tool} not installed"
    return True, ""


def _run(*argv: str, timeout: float = 30) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=timeout).stdout


def keygen(path: Path, comment: str = "secops-test") -> str:
    """A throwaway ed25519 key pair at ``path``; returns the public key line."""
    path.unlink(missing_ok=True)
    _run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path))
    return path.with_suffix(".pub").read_text().strip()


def public_fingerprint(pub_line: str) -> str:
    import base64

    return fingerprint_blob(base64.b64decode(pub_line.split()[1]))


@dataclass
class TestUser:
    """A login user ``secops-…`` with a key pair (private key at ``key``), removed afterwards."""

    __test__ = False

    name: str
    home: Path
    key: Path
    pubkey: str


@contextmanager
def test_user(workdir: Path) -> Iterator[TestUser]:
    name = f"secops-{secrets.token_hex(4)}"
    home = Path("/home") / name
    _run("/usr/sbin/useradd", "-m", "-d", str(home), "-s", "/bin/sh", "-c", "secops test user", name)
    try:
        _run("/usr/sbin/usermod", "-p", "*", name)  # unlocked for key logins under UsePAM no; no password
        key = workdir / "id_ed25519"
        pub = keygen(key, name)
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(pub + "\n")
        (ssh_dir / "authorized_keys").chmod(0o600)
        shutil.chown(ssh_dir, name, name)
        shutil.chown(ssh_dir / "authorized_keys", name, name)
        yield TestUser(name=name, home=home, key=key, pubkey=pub)
    finally:
        subprocess.run(["/usr/sbin/userdel", "-r", "-f", name], capture_output=True, timeout=30, check=False)


def sshd_config(*, port: int, listen: str, host_key: Path, user: str, extra: str = "") -> str:
    """An sshd_config with absolute paths; ``extra`` lines come first, so they win (first value counts)."""
    return f"""{extra.strip()}
Port {port}
ListenAddress {listen}
HostKey {host_key}
PidFile none
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers {user}
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 1000:30:1000
LogLevel VERBOSE
"""


@dataclass
class SshServer:
    """One running sshd. ``host_pub`` is its host public key line (``type base64``)."""

    address: str
    port: int
    host_pub: str
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def fingerprint(self) -> str:
        return public_fingerprint(self.host_pub)

    def known_hosts_line(self) -> str:
        name = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        kind, blob = self.host_pub.split()[:2]
        return f"{name} {kind} {blob}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_listening(address: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"sshd exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"sshd did not listen on {address}:{port}: {log.read_text(errors='replace')[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_privsep_dir() -> None:
    run_sshd = Path("/run/sshd")
    run_sshd.mkdir(mode=0o755, exist_ok=True)
    run_sshd.chmod(0o755)


@contextmanager
def loopback_sshd(
    workdir: Path, user: TestUser, *, port: int | None = None, extra: str = "", address: str = "127.0.0.1"
) -> Iterator[SshServer]:
    """A private sshd on a loopback port, with its own config and throwaway host key."""
    ensure_privsep_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(5):
        chosen = port or free_port()
        host_key = workdir / "ssh_host_ed25519_key"
        host_pub = keygen(host_key, "host")
        config = workdir / "sshd_config"
        config.write_text(
            sshd_config(port=chosen, listen=address, host_key=host_key, user=user.name, extra=extra)
        )
        log = workdir / "sshd.log"
        proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)])
        try:
            _wait_listening(address, chosen, proc, log)
        except RuntimeError:
            proc.kill()
            proc.wait()
            if port is not None or attempt == 4:
                raise
            continue  # somebody took the free port first
        server = SshServer(address, chosen, host_pub, log, proc)
        try:
            yield server
        finally:
            server.stop()
        return


@dataclass
class TestHost:
    """A reachable test host: its sshd, the login user, and a known_hosts file that trusts it."""

    __test__ = False

    name: str
    server: SshServer
    user: TestUser
    known_hosts: Path
    sudo: bool = True
    ns: netns.NetnsHost | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.server.address

    def target(self, name: str | None = None, **changes: object) -> Target:
        fields: dict[str, object] = dict(
            name=name or self.name,
            address=self.server.address,
            transport="ssh",
            user=self.user.name,
            port=self.server.port,
            key=self.user.key,
            known_hosts=self.known_hosts,
            sudo=self.sudo,
        )
        fields.update(changes)
        return Target(**fields)  # type: ignore[arg-type]

    def inventory_fields(self) -> dict[str, object]:
        """The inventory's ``ssh:`` mapping for this host (issue 3 contract)."""
        return {
            "user": self.user.name,
            "port": self.server.port,
            "key": str(self.user.key),
            "known_hosts": str(self.known_hosts),
            "sudo": self.sudo,
        }


def _passwd_overlay(extra_passwd: str, extra_shadow: str) -> tuple[str, str]:
    passwd = Path("/etc/passwd").read_text() + extra_passwd
    shadow = Path("/etc/shadow").read_text() + extra_shadow
    return passwd, shadow


@contextmanager
def netns_test_host(
    tag: str,
    index: int,
    user: TestUser,
    workdir: Path,
    *,
    sshd_extra: str = "",
    files: dict[str, tuple[str, int]] | None = None,
    extra_passwd: str = "",
    extra_shadow: str = "",
    sudo: bool = True,
) -> Iterator[TestHost]:
    """A host in namespace ``secops-<tag>`` with its own /etc files, sshd on port 22 of 10.253.<index>.2.

    ``files`` maps ``/etc``-relative paths to ``(content, mode)``; ``/etc/ssh`` is always ours (sshd_config
    with ``sshd_extra`` first, host key), ``/etc/passwd`` and ``/etc/shadow`` are the machine's plus extras,
    ``/etc/sudoers`` lets the test user ``sudo -n`` when ``sudo``.
    """
    ensure_privsep_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    with netns.netns_host(tag, index) as ns:
        host_key = ns.etc / "ssh" / "ssh_host_ed25519_key"
        host_key.parent.mkdir(parents=True, exist_ok=True)
        host_pub = keygen(host_key, "host")
        inner_key = Path("/etc/ssh/ssh_host_ed25519_key")
        ns.write_etc(
            "ssh/sshd_config",
            sshd_config(port=22, listen=ns.address, host_key=inner_key, user=user.name, extra=sshd_extra),
        )
        passwd, shadow = _passwd_overlay(extra_passwd, extra_shadow)
        ns.write_etc("passwd", passwd, 0o644)
        ns.write_etc("shadow", shadow, 0o640)
        if sudo:
            ns.write_etc(
                "sudoers",
                f"Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n{user.name} ALL=(ALL) NOPASSWD: ALL\n",
                0o440,
            )
        for rel, (content, mode) in (files or {}).items():
            ns.write_etc(rel, content, mode)
        log = workdir / f"sshd-{tag}.log"
        proc = ns.popen(SSHD, "-D", "-f", "/etc/ssh/sshd_config", "-E", str(log))
        server = SshServer(ns.address, 22, host_pub, log, proc)
        try:
            _wait_listening(ns.address, 22, proc, log)
            known = workdir / f"known_hosts-{tag}"
            known.write_text(server.known_hosts_line() + "\n")
            yield TestHost(
                name=tag,
                server=server,
                user=user,
                known_hosts=known,
                sudo=sudo,
                ns=ns,
                files={rel: c for rel, (c, _) in (files or {}).items()},
            )
        finally:
            server.stop()


def _copy_security_dir(extra: dict[str, str]) -> dict[str, tuple[str, int]]:
    """``/etc/security`` is overlaid as a whole directory, so carry the machine's files (PAM needs them)."""
    out: dict[str, tuple[str, int]] = {}
    base = Path("/etc/security")
    for path in base.rglob("*"):
        if path.is_file():
            out[f"security/{path.relative_to(base)}"] = (
                path.read_text(errors="replace"),
                path.stat().st_mode & 0o777,
            )
    out.update({f"security/{k}": (v, 0o644) for k, v in extra.items()})
    return out


WEAK_SSHD = """PermitRootLogin yes
PasswordAuthentication yes
PermitEmptyPasswords yes
MaxAuthTries 10
X11Forwarding yes
"""
WEAK_LOGIN_DEFS = "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nPASS_MIN_LEN\t5\nUMASK\t022\n"
HARDENED_SSHD = """PermitRootLogin no
PermitEmptyPasswords no
MaxAuthTries 3
X11Forwarding no
LoginGraceTime 60
ClientAliveInterval 300
ClientAliveCountMax 0
"""
HARDENED_LOGIN_DEFS = (
    "PASS_MAX_DAYS\t90\nPASS_MIN_DAYS\t1\nPASS_WARN_AGE\t14\nPASS_MIN_LEN\t12\nUMASK\t027\n"
    "ENCRYPT_METHOD\tSHA512\n"
)
HARDENED_PWQUALITY = "minlen = 12\ndcredit = -1\nucredit = -1\nlcredit = -1\nocredit = -1\nminclass = 4\n"
HARDENED_FAILLOCK = "deny = 5\nunlock_time = 900\n"


@contextmanager
def weak_test_host(
    user: TestUser, workdir: Path, index: int = WEAK_INDEX, tag: str = "weak"
) -> Iterator[TestHost]:
    """Root login and passwords allowed, 8-character-less policy, a second UID 0, world-writable passwd,
    readable shadow, an account with an empty password."""
    files = {"login.defs": (WEAK_LOGIN_DEFS, 0o644)}
    with netns_test_host(
        tag,
        index,
        user,
        workdir,
        sshd_extra=WEAK_SSHD,
        files=files,
        extra_passwd="secops-toor:x:0:0:second root:/root:/bin/sh\n"
        "secops-nopw:x:4999:4999::/nonexistent:/bin/sh\n",
        extra_shadow="secops-toor:*:19000:0:99999:7:::\nsecops-nopw::19000:0:99999:7:::\n",
    ) as host:
        (host.ns.etc / "passwd").chmod(0o666)  # type: ignore[union-attr]
        (host.ns.etc / "shadow").chmod(0o644)  # type: ignore[union-attr]
        yield host


@contextmanager
def hardened_test_host(
    user: TestUser, workdir: Path, index: int = HARDENED_INDEX, tag: str = "hardened"
) -> Iterator[TestHost]:
    """Root login and passwords off, 12-character policy with four classes, lockout, ageing, tight modes."""
    files = {
        "login.defs": (HARDENED_LOGIN_DEFS, 0o644),
        **_copy_security_dir({"pwquality.conf": HARDENED_PWQUALITY, "faillock.conf": HARDENED_FAILLOCK}),
    }
    with netns_test_host(tag, index, user, workdir, sshd_extra=HARDENED_SSHD, files=files) as host:
        yield host


# ---------------------------------------------------------------- pytest fixtures (import them together)
# pytest makes one fixture definition per module that imports these functions, so a session-scoped fixture
# imported by two modules would run twice (two users, two namespaces with the same index). ``_shared`` keeps
# one instance per process, reference-counted, closed when the last user finishes.

_SHARED: dict[str, list[Any]] = {}  # key -> [value, ExitStack, users]


@contextmanager
def _shared(key: str, factory: Callable[[], AbstractContextManager[Any]]) -> Iterator[Any]:
    if key not in _SHARED:
        stack = ExitStack()
        try:
            _SHARED[key] = [stack.enter_context(factory()), stack, 0]
        except BaseException:
            stack.close()
            raise
    entry = _SHARED[key]
    entry[2] += 1
    try:
        yield entry[0]
    finally:
        entry[2] -= 1
        if entry[2] == 0:
            del _SHARED[key]
            entry[1].close()


def _require(need_netns: bool = False) -> None:
    ok, why = available()
    if not ok:
        pytest.skip(f"sshd test bed unavailable: {why}")
    if need_netns and not netns.available():
        pytest.skip("network namespaces unavailable (needs root and iproute2)")


@contextmanager
def _tempdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="secops-sshd-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _user() -> Iterator[TestUser]:
    with _tempdir() as workdir, test_user(workdir) as user:
        yield user


@contextmanager
def _loopback(user: TestUser, workdir: Path) -> Iterator[TestHost]:
    with loopback_sshd(workdir / "loopback", user) as server:
        known = workdir / "loopback" / "known_hosts"
        known.write_text(server.known_hosts_line() + "\n")
        yield TestHost(name="loopback", server=server, user=user, known_hosts=known, sudo=False)


@pytest.fixture(scope="session")
def ssh_user() -> Iterator[TestUser]:
    """The clean login user and its key pair, for the whole session."""
    _require()
    with _shared("user", _user) as user:
        yield user


@pytest.fixture(scope="session")
def sshd_workdir() -> Iterator[Path]:
    with _shared("workdir", _tempdir) as path:
        yield path


@pytest.fixture(scope="session")
def weak_host(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """Namespace host ``secops-weak`` (index 40): see ``weak_test_host``."""
    _require(need_netns=True)
    with _shared("weak", lambda: weak_test_host(ssh_user, sshd_workdir / "weak")) as host:
        yield host


@pytest.fixture(scope="session")
def hardened_host(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """Namespace host ``secops-hardened`` (index 41): see ``hardened_test_host``."""
    _require(need_netns=True)
    with _shared("hardened", lambda: hardened_test_host(ssh_user, sshd_workdir / "hardened")) as host:
        yield host


@pytest.fixture(scope="session")
def loopback_host(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """A private sshd on a loopback port (the machine's own /etc), trusted by its own known_hosts file."""
    with _shared("loopback", lambda: _loopback(ssh_user, sshd_workdir)) as host:
        yield host
