"""Fault tests against real sshd servers: each failure lands on its own host, a healthy one succeeds."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secops.collect import FactSpec, RawFact, collect_hosts
from tests.integration.sshd import *  # noqa: F403  (the fixtures)
from tests.integration.sshd import TestHost, TestUser, free_port, keygen, loopback_sshd, public_fingerprint

pytestmark = pytest.mark.integration
BASIC = [FactSpec("whoami", "id -un"), FactSpec("bytes", "printf 'ok \\377\\376\\n'")]


@pytest.fixture(scope="module")
def faulty_host(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """A second loopback sshd; facts misbehave only when ``$SSH_CONNECTION`` ends with its port."""
    workdir = sshd_workdir / "faulty"
    with loopback_sshd(workdir, ssh_user) as server:
        known = workdir / "known_hosts"
        known.write_text(server.known_hosts_line() + "\n")
        yield TestHost(name="faulty", server=server, user=ssh_user, known_hosts=known, sudo=False)


def only_on(host: TestHost, command: str, otherwise: str = "echo fine") -> str:
    return f'case "$SSH_CONNECTION" in *" {host.server.port}") {command};; *) {otherwise};; esac'


def test_connection_faults_each_on_their_own_host(loopback_host: TestHost, tmp_path: Path) -> None:
    server = loopback_host.server
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    other_pub = keygen(tmp_path / "other_host_key")
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"[127.0.0.1]:{server.port} {other_pub}\n")
    stranger = tmp_path / "stranger"
    keygen(stranger)
    targets = [
        loopback_host.target("healthy"),
        loopback_host.target("closed", port=free_port()),
        loopback_host.target("wrong_key", key=stranger),
        loopback_host.target("unknown_key", known_hosts=empty),
        loopback_host.target("changed_key", known_hosts=changed),
        loopback_host.target("pin_ok", known_hosts=None, host_key=server.fingerprint),
        loopback_host.target("pin_changed", known_hosts=None, host_key=public_fingerprint(other_pub)),
    ]
    results = {r.host: r for r in collect_hosts(targets, BASIC, concurrency=4, host_deadline=20)}
    user = loopback_host.user.name
    for name in ("healthy", "pin_ok"):
        assert results[name].error is None, results[name].error
        assert results[name].facts == {
            "whoami": RawFact(rc=0, stdout=f"{user}\n"),
            "bytes": RawFact(rc=0, stdout="ok \ufffd\ufffd\n"),
        }
        assert results[name].host_key_fingerprint == server.fingerprint
    closed = results["closed"]
    assert (closed.error_kind, closed.facts) == ("unreachable", {})
    assert closed.error == f"unreachable: connection refused by 127.0.0.1 port {targets[1].port}"
    assert results["wrong_key"].error_kind == "auth"
    assert results["wrong_key"].error == f"auth failed: server refused the key for user {user}"
    unknown = results["unknown_key"]
    assert unknown.error_kind == "host_key_unknown" and unknown.host_key_fingerprint == server.fingerprint
    assert unknown.error == (
        f"unknown host key ssh-ed25519 {server.fingerprint} (not in {empty}); check it with "
        "the host's administrator, then run: secops host trust unknown_key"
    )
    for name in ("changed_key", "pin_changed"):
        assert results[name].error_kind == "host_key_changed", results[name].error
        assert results[name].error.startswith(
            f"HOST KEY CHANGED: server offered ssh-ed25519 {server.fingerprint}"
        )
        assert results[name].facts == {}


def test_host_deadline_on_a_hanging_fact(loopback_host: TestHost, faulty_host: TestHost) -> None:
    specs = [FactSpec("first", "echo one"), FactSpec("hang", only_on(faulty_host, "sleep 60"), timeout=120)]
    with socket.socket() as silent:  # accepts TCP (kernel backlog) but never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        mute = loopback_host.target("mute", port=silent.getsockname()[1])
        started = time.monotonic()
        results = collect_hosts([loopback_host.target(), faulty_host.target(), mute], specs, host_deadline=2)
    assert time.monotonic() - started < 6
    healthy, faulty, quiet = results
    assert healthy.error is None and healthy.facts["hang"] == RawFact(rc=0, stdout="fine\n")
    assert faulty.error_kind == "timeout"
    assert faulty.error == "timeout: host deadline of 2s passed (while running fact hang)"
    assert faulty.facts == {"first": RawFact(rc=0, stdout="one\n")}
    assert quiet.error_kind == "unreachable"
    # paramiko's banner timer and ours race: either reason names the silent port
    assert quiet.error.startswith(f"unreachable: SSH handshake with 127.0.0.1 port {mute.port} failed: ")


def test_agent_authentication(
    loopback_host: TestHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(tmp_path / "agent.sock")], stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while not (tmp_path / "agent.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(tmp_path / "agent.sock")}
        subprocess.run(["ssh-add", str(loopback_host.user.key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
        (with_agent,) = collect_hosts([loopback_host.target("agent", key=None)], BASIC)
        assert with_agent.error is None
        assert with_agent.facts["whoami"].stdout == f"{loopback_host.user.name}\n"
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "nothing.sock"))
        (no_key,) = collect_hosts([loopback_host.target("no_agent", key=None)], BASIC)
        assert no_key.error_kind == "auth"
        assert no_key.error == "auth failed: no key configured for the host and no key in ssh-agent"
    finally:
        agent.terminate()
        agent.wait(timeout=5)


def test_fact_timeout_and_huge_output(loopback_host: TestHost, faulty_host: TestHost) -> None:
    cap = 1 << 20
    specs = [
        FactSpec("slow", only_on(faulty_host, "sleep 60"), timeout=1),
        FactSpec("huge", only_on(faulty_host, "head -c 30000000 /dev/zero | tr '\\0' x")),
        FactSpec("after", "echo after"),
    ]
    healthy, faulty = collect_hosts([loopback_host.target(), faulty_host.target()], specs, output_cap=cap)
    assert healthy.error is None and faulty.error is None
    assert healthy.facts["slow"] == RawFact(rc=0, stdout="fine\n")
    assert healthy.facts["huge"] == RawFact(rc=0, stdout="fine\n")
    assert faulty.facts["slow"] == RawFact(rc=None, stdout="", timed_out=True)
    huge = faulty.facts["huge"]
    assert huge.truncated and huge.stdout == "x" * cap
    assert faulty.facts["after"] == RawFact(rc=0, stdout="after\n")


KILL_SESSION = (  # walk up from this fact to the user's sshd session process and kill it: the link drops
    'p=$$; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) kill -9 "$p"; break;; esac; '
    "p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status); done; sleep 10"
)


def test_server_drops_the_connection_mid_run(loopback_host: TestHost, faulty_host: TestHost) -> None:
    specs = [
        FactSpec("first", "echo one"),
        FactSpec("drop", only_on(faulty_host, KILL_SESSION)),
        FactSpec("last", "echo last"),
    ]
    started = time.monotonic()
    healthy, faulty = collect_hosts([loopback_host.target(), faulty_host.target()], specs, host_deadline=20)
    assert time.monotonic() - started < 8
    assert healthy.error is None and healthy.facts["last"] == RawFact(rc=0, stdout="last\n")
    assert faulty.error_kind == "dropped"
    assert (
        faulty.error == "dropped: connection closed before the collection finished (while running fact drop)"
    )
    assert faulty.facts == {"first": RawFact(rc=0, stdout="one\n")}
    assert faulty.host_key_fingerprint == faulty_host.server.fingerprint
