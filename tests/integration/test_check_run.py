"""`secops check run` end to end: this machine over the local transport, and a weak and a hardened
namespace host over real SSH next to an unreachable one. Exact statuses of the contract checks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secops import db
from secops.models import Agency, Host, System
from tests.conftest import Cli
from tests.integration.sshd import *  # noqa: F403  (the fixtures)
from tests.integration.sshd import (
    HARDENED_FAILLOCK,
    HARDENED_LOGIN_DEFS,
    HARDENED_PWQUALITY,
    HARDENED_SSHD,
    TestHost,
    TestUser,
    free_port,
    netns_test_host,
    weak_test_host,
)

pytestmark = pytest.mark.integration

CONTRACT = [
    "auditd_running", "firewall_active", "passwd_file_permissions", "password_min_length",
    "shadow_file_permissions", "ssh_empty_passwords_disabled", "ssh_max_auth_tries_limited",
    "ssh_password_auth_disabled", "ssh_root_login_disabled", "telnet_server_absent", "time_sync_active",
    "uid0_only_root",
]  # fmt: skip
STATUSES = {"pass", "fail", "error", "skipped", "manual", "waived", "not_applicable"}


def seed(db_url: str, hosts: list[dict[str, Any]], level: int = 3) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        agency = Agency(code="so-khcn", name="Sở Khoa học và Công nghệ")
        s.add(agency)
        s.flush()
        system = System(code="lgsp", name="Nền tảng tích hợp", owner_id=agency.id, approved_level=level)
        s.add(system)
        s.flush()
        for fields in hosts:
            s.add(Host(system_id=system.id, os="linux", **fields))
    engine.dispose()


def by_key(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["host"], r["check"]): r for r in data["results"]}


def test_local_transport_end_to_end(run: Cli) -> None:
    seed(
        run.db_url,
        [{"name": "this-machine", "address": "127.0.0.1", "transport": "local", "zone": "quan-tri"}],
    )
    first = run("check", "run", "--host", "this-machine", "--format", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert (data["run_id"], data["status"]) == (1, "completed")
    results = by_key(data)
    for check in CONTRACT:
        assert results[("this-machine", check)]["status"] in STATUSES
    # What this machine's /etc/passwd looks like decides that check, exactly.
    info = os.stat("/etc/passwd")
    tight = info.st_uid == 0 and not stat.S_IMODE(info.st_mode) & 0o133
    assert results[("this-machine", "passwd_file_permissions")]["status"] == ("pass" if tight else "fail")
    assert set(results[("this-machine", "ssh_root_login_disabled")]) >= {
        "host",
        "check",
        "status",
        "severity",
        "requirements",
        "expected",
        "observed",
        "detail",
    }

    rescored = run("check", "rescore", "1", "--format", "json")
    assert rescored.exit_code == 0, rescored.output
    again = json.loads(rescored.output)
    assert (again["run_id"], again["source_run"]) == (2, 1)
    assert {k: r["status"] for k, r in by_key(again).items()} == {k: r["status"] for k, r in results.items()}
    diff = json.loads(run("check", "diff", "1", "2", "--format", "json").output)
    assert set(diff["counts"].values()) == {0}

    summary = run("check", "summary", "--system", "lgsp", "--format", "json")
    assert summary.exit_code == 0, summary.output
    (row,) = json.loads(summary.output)
    assert set(row) >= {
        "system",
        "level",
        "score",
        "coverage",
        "achieved_level",
        "met",
        "not_met",
        "not_evaluated",
        "gap_to_next_level",
    }
    assert (row["system"], row["level"]) == ("lgsp", 3)
    assert row["met"] + row["not_met"] + row["not_evaluated"] == row["applicable"] > 0


# Function-scoped on purpose: replacing the machine's /etc/passwd (any useradd/userdel, e.g. by a parallel
# test session) detaches the namespace's /etc/passwd overlay (Linux ≥ 3.18), so keep each bed short-lived.
@pytest.fixture
def weak(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    with weak_test_host(ssh_user, sshd_workdir / "cr-weak", index=50, tag="cr-weak") as host:
        yield host


def etc_dir_copy(name: str, changes: dict[str, str]) -> dict[str, tuple[str, int]]:
    """A whole ``/etc/<name>`` directory for an overlay (overlays replace directories), with ``changes``."""
    base = Path("/etc") / name
    out = {
        f"{name}/{p.relative_to(base)}": (p.read_text(errors="replace"), stat.S_IMODE(p.stat().st_mode))
        for p in base.rglob("*")
        if p.is_file()
    }
    out.update({f"{name}/{rel}": (text, 0o644) for rel, text in changes.items()})
    return out


PWQUALITY_STACK = "password requisite pam_pwquality.so retry=3\n" + (
    Path("/etc/pam.d/common-password").read_text() if Path("/etc/pam.d/common-password").exists() else ""
)


@pytest.fixture
def hardened(ssh_user: TestUser, sshd_workdir: Path) -> Iterator[TestHost]:
    """The hardened bed plus pam_pwquality in the PAM password stack (the length policy is enforced)."""
    files = {
        "login.defs": (HARDENED_LOGIN_DEFS, 0o644),
        **etc_dir_copy(
            "security", {"pwquality.conf": HARDENED_PWQUALITY, "faillock.conf": HARDENED_FAILLOCK}
        ),
        **etc_dir_copy("pam.d", {"common-password": PWQUALITY_STACK}),
    }
    with netns_test_host(
        "cr-hard", 51, ssh_user, sshd_workdir / "cr-hard", sshd_extra=HARDENED_SSHD, files=files
    ) as host:
        yield host


def ssh_fields(name: str, host: TestHost) -> dict[str, Any]:
    f = host.inventory_fields()
    return {
        "name": name,
        "address": host.address,
        "transport": "ssh",
        "ssh_user": f["user"],
        "ssh_port": f["port"],
        "ssh_key": f["key"],
        "known_hosts": f["known_hosts"],
        "sudo": f["sudo"],
    }


HOST_SPECIFIC = {
    # check: (weak, hardened)
    "ssh_root_login_disabled": ("fail", "pass"),
    "ssh_password_auth_disabled": ("fail", "pass"),
    "ssh_empty_passwords_disabled": ("fail", "pass"),
    "ssh_max_auth_tries_limited": ("fail", "pass"),
    "passwd_file_permissions": ("fail", "pass"),
    "shadow_file_permissions": ("fail", "pass"),
    "password_min_length": ("fail", "pass"),
    "uid0_only_root": ("fail", "pass"),
    "firewall_active": ("fail", "pass"),  # nftables rules live in each network namespace
    "telnet_server_absent": ("fail", "pass"),  # a listener on 23/tcp in the weak namespace
    # Processes and services are the machine's own in every namespace: no auditd, no time daemon here.
    "auditd_running": ("fail", "fail"),
    "time_sync_active": ("fail", "fail"),
}


NFT = "/usr/sbin/nft"
TELNET_LISTENER = (
    "import socket, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', 23)); s.listen(); time.sleep(300)\n"
)


def namespace_state(weak: TestHost, hardened: TestHost, tmp: Path) -> subprocess.Popen[bytes]:
    """What differs per network namespace besides /etc: a default-deny nftables input chain on the
    hardened host (SSH allowed) and a listener on the telnet port of the weak one."""
    assert weak.ns is not None and hardened.ns is not None
    rules = tmp / "hardened.nft"
    rules.write_text(
        "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
        f"  iif lo accept\n  tcp dport {hardened.server.port} accept\n }}\n}}\n"
    )
    loaded = subprocess.run(hardened.ns.exec_argv(NFT, "-f", str(rules)), capture_output=True, text=True, timeout=30)
    assert loaded.returncode == 0, loaded.stderr
    return weak.ns.popen("python3", "-c", TELNET_LISTENER)


def test_weak_hardened_and_unreachable_hosts(run: Cli, weak: TestHost, hardened: TestHost, tmp_path: Path) -> None:
    telnet = namespace_state(weak, hardened, tmp_path)
    try:
        _weak_hardened_and_unreachable(run, weak, hardened)
    finally:
        telnet.kill()
        telnet.wait()


def _weak_hardened_and_unreachable(run: Cli, weak: TestHost, hardened: TestHost) -> None:
    assert set(HOST_SPECIFIC) == set(CONTRACT)
    closed = free_port()
    seed(
        run.db_url,
        [
            ssh_fields("weak", weak),
            ssh_fields("hardened", hardened),
            {
                "name": "gone",
                "address": "127.0.0.1",
                "transport": "ssh",
                "ssh_port": closed,
                "ssh_user": "nobody",
            },
        ],
    )
    out = run("check", "run", "--system", "lgsp", "--format", "json")
    assert out.exit_code == 3, out.output
    data = json.loads(out.output)
    assert data["status"] == "incomplete"
    results = by_key(data)
    for check, (on_weak, on_hardened) in HOST_SPECIFIC.items():
        assert (results[("weak", check)]["status"], results[("hardened", check)]["status"]) == (
            on_weak,
            on_hardened,
        ), check
    for check in CONTRACT:
        gone = results[("gone", check)]
        assert gone["status"] == "error" and gone["detail"].startswith("unreachable"), gone
    weak_root = results[("weak", "ssh_root_login_disabled")]
    assert "yes" in str(weak_root["observed"]) and weak_root["severity"] in ("high", "critical")

    gated = run(
        "check", "run", "--host", "weak", "--host", "hardened", "--fail-on", "high", "--format", "json"
    )
    assert gated.exit_code == 1, gated.output
    assert json.loads(gated.output)["status"] == "completed"


def test_demo_checks_this_machine(run: Cli) -> None:
    from io import StringIO

    from rich.console import Console

    from secops.cli.app import App
    from secops.compliance.demo import DEMO_HOST, run_demo
    from secops.config import load_settings
    from secops.i18n import set_language

    seed(run.db_url, [])  # a level-3 system without a local host: the demo adds one
    set_language("en")
    app = App(settings=load_settings(home=run.home, db_url=run.db_url, lang="en", actor="tester"))
    buffer = StringIO()
    try:
        run_demo(app, Console(file=buffer, width=200))
    finally:
        app.close()
    text = buffer.getvalue()
    assert f"Checking this machine ({DEMO_HOST}) through the local transport" in text
    assert "Run 1: completed" in text
    assert "lgsp (level 3): achieved level" in text and "score = met / (met + not met) = " in text
    hosts = json.loads(run("check", "run", "--host", DEMO_HOST, "--format", "json").output)["results"]
    assert {r["host"] for r in hosts} == {DEMO_HOST}
