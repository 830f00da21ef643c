"""Collection from namespace hosts with their own /etc (weak and hardened) and the sudo paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secops.collect import FactSpec, RawFact, collect_hosts
from secops.collect.script import SKIP_NO_SUDO, SKIP_SUDO_REFUSED
from tests.integration.sshd import *  # noqa: F403  (the fixtures)
from tests.integration.sshd import TestHost, TestUser, netns_test_host

pytestmark = pytest.mark.integration

SPECS = [
    FactSpec(
        "sshd_effective",
        "sshd -T | grep -E '^(permitrootlogin|passwordauthentication|maxauthtries) '",
        root=True,
    ),
    FactSpec("pass_max_days", "awk '$1 == \"PASS_MAX_DAYS\" {print $2}' /etc/login.defs"),
    FactSpec("passwd_mode", "stat -c %a /etc/passwd"),
    FactSpec("uid0", "awk -F: '$3 == 0 {print $1}' /etc/passwd"),
    FactSpec("whoami", "id -un"),
]


def test_weak_and_hardened_hosts_differ(weak_host: TestHost, hardened_host: TestHost) -> None:
    weak, hardened = collect_hosts([weak_host.target(), hardened_host.target()], SPECS)
    assert weak.error is None and hardened.error is None
    assert weak.host_key_fingerprint == weak_host.server.fingerprint
    assert weak.facts["sshd_effective"] == RawFact(
        rc=0, stdout="maxauthtries 10\npermitrootlogin yes\npasswordauthentication yes\n"
    )
    assert hardened.facts["sshd_effective"] == RawFact(
        rc=0, stdout="maxauthtries 3\npermitrootlogin no\npasswordauthentication no\n"
    )
    assert (weak.facts["pass_max_days"].stdout, hardened.facts["pass_max_days"].stdout) == ("99999\n", "90\n")
    assert (weak.facts["passwd_mode"].stdout, hardened.facts["passwd_mode"].stdout) == ("666\n", "644\n")
    assert weak.facts["uid0"].stdout == "root\nsecops-toor\n" and hardened.facts["uid0"].stdout == "root\n"
    assert weak.facts["whoami"].stdout == f"{weak_host.user.name}\n"


@pytest.fixture(scope="module")
def no_sudo_host(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """A namespace host whose sudoers does not list the test user."""
    with netns_test_host("nosudo", 42, ssh_user, sshd_workdir / "nosudo", sudo=False) as host:
        yield host


def test_root_facts_need_sudo(no_sudo_host: TestHost, hardened_host: TestHost) -> None:
    specs = [FactSpec("shadow_head", "head -c 5 /etc/shadow", root=True), FactSpec("plain", "echo plain")]
    without, refused, allowed = collect_hosts(
        [no_sudo_host.target("without"), no_sudo_host.target("refused", sudo=True), hardened_host.target()],
        specs,
    )
    assert without.facts == {
        "shadow_head": RawFact(rc=None, stdout="", skipped=SKIP_NO_SUDO),
        "plain": RawFact(rc=0, stdout="plain\n"),
    }
    assert refused.facts["shadow_head"] == RawFact(rc=None, stdout="", skipped=SKIP_SUDO_REFUSED)
    assert allowed.facts["shadow_head"] == RawFact(rc=0, stdout="root:")


def test_hanging_root_fact_under_sudo_times_out(hardened_host: TestHost) -> None:
    specs = [FactSpec("hang", "sleep 60", root=True, timeout=1), FactSpec("after", "id -u", root=True)]
    started = time.monotonic()
    (result,) = collect_hosts([hardened_host.target()], specs, host_deadline=20)
    assert time.monotonic() - started < 6
    assert result.error is None
    assert result.facts == {
        "hang": RawFact(rc=None, stdout="", timed_out=True),
        "after": RawFact(rc=0, stdout="0\n"),
    }
