"""Real nmap against a network namespace of our own (10.253.20.2) with listeners we choose."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netns
from tests.fixtures.nmap.helpers import add_scope, as_json, fixture, sqlite_cli

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not netns.available(), reason="needs root and iproute2 for network namespaces"),
]
LISTENERS = str(fixture("listeners.py"))


class Listeners:
    """One listener process per port, so a test can open and close ports one by one."""

    def __init__(self, host: netns.NetnsHost) -> None:
        self.host = host
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def open(self, spec: str) -> None:
        proc = self.host.popen(sys.executable, LISTENERS, spec, stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        self.procs[spec] = proc

    def close(self, spec: str) -> None:
        proc = self.procs.pop(spec)
        proc.kill()
        proc.wait(timeout=10)

    def close_all(self) -> None:
        for spec in list(self.procs):
            self.close(spec)


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[netns.NetnsHost, Listeners]]:
    with netns.netns_host("net-scan", 20) as host:
        listeners = Listeners(host)
        try:
            listeners.open("22=ssh")
            listeners.open("80=http")
            yield host, listeners
        finally:
            listeners.close_all()


@pytest.fixture
def srun(tmp_path: Path):
    cli = sqlite_cli(tmp_path)
    add_scope(cli.db_url)  # 10.253.0.0/16: the test namespaces, declared by the test itself
    return cli


def open_ports(payload: dict) -> list[tuple]:
    return [
        (p["port"], p["protocol"], p["service"], p["product"], p["version"])
        for h in payload["hosts"]
        for p in h["ports"]
        if p["state"] == "open"
    ]


def test_top_ports_finds_exactly_our_listeners(target, srun) -> None:
    host, _ = target
    result = srun("net", "scan", host.address, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = as_json(result.stdout)  # stdout is JSON only, even with nmap running
    assert payload["scope"] == "testnet" and payload["profile"] == "top-ports"
    assert [(h["address"], h["state"], h["hostnames"]) for h in payload["hosts"]] == [(host.address, "up", [])]
    assert open_ports(payload) == [(22, "tcp", "ssh", None, None), (80, "tcp", "http", None, None)]
    assert result.stderr == ""  # quiet when not on a terminal


def test_services_profile_identifies_products(target, srun) -> None:
    host, _ = target
    payload = as_json(srun("net", "scan", host.address, "--profile", "services", "--format", "json").stdout)
    assert open_ports(payload) == [
        (22, "tcp", "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3"),
        (80, "tcp", "http", "Apache httpd", "2.4.57"),
    ]


def test_diff_after_opening_and_closing_a_port(target, srun) -> None:
    host, listeners = target
    assert srun("net", "scan", host.address).exit_code == 0
    listeners.open("8080=http")
    listeners.close("80=http")
    try:
        assert srun("net", "scan", host.address).exit_code == 0
    finally:
        listeners.close("8080=http")
        listeners.open("80=http")
    diff = as_json(srun("net", "diff", "--format", "json").stdout)
    assert diff == {
        "from": 1,
        "to": 2,
        "changes": [
            {"address": host.address, "kind": "port_closed", "port": 80, "protocol": "tcp", "before": "open",
             "after": "closed"},
            {"address": host.address, "kind": "port_opened", "port": 8080, "protocol": "tcp", "before": None,
             "after": "open"},
        ],
    }  # fmt: skip
    scans = as_json(srun("net", "list", "--format", "json").stdout)
    assert [(s["scan_id"], s["scope"], s["profile"], s["hosts_up"]) for s in scans] == [
        (1, "testnet", "top-ports", 1),
        (2, "testnet", "top-ports", 1),
    ]


def test_discovery_of_a_scope_by_name(target, srun) -> None:
    host, _ = target
    add_scope(srun.db_url, "ns20", "10.253.20.0/30", zone="dmz")
    payload = as_json(srun("net", "scan", "ns20", "--profile", "discovery", "--format", "json").stdout)
    assert payload["scope"] == "ns20" and payload["profile"] == "discovery"
    assert sorted(h["address"] for h in payload["hosts"] if h["state"] == "up") == [
        host.gateway,
        host.address,
    ]
    assert all(h["ports"] == [] for h in payload["hosts"])


def test_a_named_address_that_does_not_answer_is_incomplete(target, srun) -> None:
    host, _ = target
    silent = host.address.rsplit(".", 1)[0] + ".3"  # the /30's broadcast address: nobody answers
    result = srun("net", "scan", silent, "--profile", "discovery", "--format", "json")
    assert result.exit_code == 3
    assert f"incomplete: not reached: {silent}" in result.stderr
    assert as_json(result.stdout)["hosts"] == []  # nmap lists down hosts only with -v


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_without_raw_sockets_a_connect_scan_finds_the_same_ports(target, srun) -> None:
    """Root without CAP_NET_RAW, as in a locked-down container: nmap, seeing uid 0, would try -sS and fail."""
    host, _ = target
    drop = "-net_raw,-net_admin"
    command = [
        "setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--",
        sys.executable, "-m", "secops", "--db", srun.db_url, "--home", str(srun.home), "--lang", "en",
        "net", "scan", host.address, "--format", "json",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert open_ports(json.loads(result.stdout)) == [(22, "tcp", "ssh", None, None), (80, "tcp", "http", None, None)]
    assert result.stderr == "note: no raw sockets (not root, or no CAP_NET_RAW): using a TCP connect scan (-sT)\n"
    with sqlite3.connect(srun.db_url.removeprefix("sqlite:///")) as conn:
        (nmap_command,) = conn.execute("SELECT command FROM network_scan").fetchone()
    assert "-sT --top-ports 1000 --unprivileged -T4 -n" in nmap_command and "-sS" not in nmap_command
