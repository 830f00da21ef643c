"""The scope guard and the profiles: refused targets never start nmap (a sentinel binary proves it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from secops.errors import InputError
from secops.models.scope import Scope
from secops.netscan.profiles import PROFILES, build_arguments
from secops.netscan.scope import TargetRefused, plan_scan
from tests.fixtures.nmap.helpers import add_scope, sentinel_nmap, sqlite_cli


@pytest.fixture
def srun(tmp_path: Path):
    return sqlite_cli(tmp_path)


REFUSED = [
    ("10.0.0.1", "target 10.0.0.1 is outside every declared scope"),
    ("10.252.0.0/15", "target 10.252.0.0/15 is outside every declared scope"),  # partly outside
    ("10.253.20.0/8", "target 10.253.20.0/8 (10.0.0.0/8) is outside every declared scope"),
    ("localhost", "target localhost (127.0.0.1/32) is outside every declared scope"),  # resolves outside
    ("::1", "target ::1 is outside every declared scope"),
    ("-iL/etc/passwd", "target '-iL/etc/passwd' looks like an option"),
    ("--script=http-shellshock", "target '--script=http-shellshock' looks like an option"),
    ("10.253.20.2 -oN /tmp/x", "target '10.253.20.2 -oN /tmp/x' contains whitespace"),
    ("10.253.20.2\n127.0.0.1", "contains whitespace"),
    ("10.253.20.2;reboot", "target '10.253.20.2;reboot' contains characters that are not allowed"),
    ("$(id)", "target '$(id)' contains characters that are not allowed"),
    ("`id`", "contains characters that are not allowed"),
    ("10.253.20.2|nc", "contains characters that are not allowed"),
    ("10.253.20.*", "contains characters that are not allowed"),
    ("10.253.20.1-5", "target '10.253.20.1-5' is not an IP address, CIDR block or hostname"),
    ("10.253.0.0/33", "is not an IP address, CIDR block or hostname"),
    ("", "empty target"),
]


@pytest.mark.parametrize(("target", "message"), REFUSED)
def test_refused_targets_never_start_nmap(srun, tmp_path: Path, target: str, message: str) -> None:
    add_scope(srun.db_url)
    binary, marker = sentinel_nmap(tmp_path)
    # "--" gets option-like strings past click, to reach our own guard
    result = srun("net", "scan", "--profile", "discovery", "--", target, SECOPS_NMAP=binary)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not marker.exists(), "nmap was started for a refused target"


def test_one_bad_target_refuses_the_whole_run(srun, tmp_path: Path) -> None:
    add_scope(srun.db_url)
    binary, marker = sentinel_nmap(tmp_path)
    result = srun("net", "scan", "10.253.20.2", "192.0.2.7", SECOPS_NMAP=binary)
    assert result.exit_code == 2 and "target 192.0.2.7 is outside every declared scope" in result.stderr
    assert not marker.exists()


def test_sentinel_does_run_for_an_allowed_target(srun, tmp_path: Path) -> None:
    """The control: the sentinel does start for an in-scope target, so its silence above is meaningful."""
    add_scope(srun.db_url)
    binary, marker = sentinel_nmap(tmp_path)
    result = srun("net", "scan", "10.253.20.2", SECOPS_NMAP=binary)
    assert result.exit_code == 3 and "nmap is not usable" in result.stderr
    assert marker.read_text().split() == ["-V"]


def test_refusal_speaks_vietnamese(srun, tmp_path: Path) -> None:
    add_scope(srun.db_url)
    binary, marker = sentinel_nmap(tmp_path)
    result = srun("net", "scan", "10.0.0.1", lang="vi", SECOPS_NMAP=binary)
    assert result.exit_code == 2
    assert "mục tiêu 10.0.0.1 nằm ngoài mọi phạm vi đã khai báo; bị từ chối" in result.stderr
    assert not marker.exists()


def test_no_scopes_means_nothing_is_scanned(srun, tmp_path: Path) -> None:
    binary, marker = sentinel_nmap(tmp_path)
    result = srun("net", "scan", "127.0.0.1", SECOPS_NMAP=binary)
    assert result.exit_code == 2 and "outside every declared scope" in result.stderr
    assert not marker.exists()


def test_plan_scan_allows_scope_names_cidrs_and_resolved_names(engine) -> None:
    with Session(engine) as session:
        session.add(Scope(name="testnet", cidr="10.253.0.0/16", zone="dmz"))
        session.add(Scope(name="web", cidr="10.253.20.0/24", zone="dmz"))
        session.commit()
        plan = plan_scan(session, ["web"])
        assert (plan.nmap_targets, plan.scope.name, plan.addresses) == (["10.253.20.0/24"], "web", 256)
        plan = plan_scan(session, ["10.253.20.2", "10.253.21.0/30"])
        assert plan.nmap_targets == ["10.253.20.2", "10.253.21.0/30"]
        assert plan.scope.name == "web" and plan.scopes == ["testnet", "web"]
        plan = plan_scan(session, ["db01.example.test"], resolver=lambda name: ["10.253.20.9", "10.253.21.9"])
        assert plan.nmap_targets == ["10.253.20.9", "10.253.21.9"]  # nmap gets addresses, not the name
        with pytest.raises(TargetRefused, match=r"db02.example.test \(10.9.9.9/32\) is outside"):
            plan_scan(session, ["db02.example.test"], resolver=lambda name: ["10.253.20.9", "10.9.9.9"])
        with pytest.raises(TargetRefused, match="does not resolve"):
            plan_scan(session, ["nothing.invalid"], resolver=lambda name: [])
        session.add(Scope(name="v6", cidr="::1/128"))
        session.commit()
        with pytest.raises(TargetRefused, match="separate runs"):
            plan_scan(session, ["10.253.20.2", "::1"])
        assert plan_scan(session, ["::1"]).ipv6 is True
        session.add(Scope(name="wide", cidr="10.0.0.0/8"))
        session.commit()
        with pytest.raises(TargetRefused, match="16777216 addresses in one run; the limit is 65536"):
            plan_scan(session, ["wide"])


def test_profiles_always_pass_n_and_fall_back_without_root() -> None:
    assert set(PROFILES) == {"discovery", "top-ports", "full-tcp", "services", "tls", "udp-common"}
    for profile in PROFILES.values():
        if profile.needs_root:
            continue
        for privileged in (True, False):
            args = build_arguments(profile, privileged=privileged).args
            assert "-n" in args
            assert ("-sS" in args) is (privileged and profile.raw_scan == "-sS")
            assert ("--unprivileged" in args) is not privileged  # nmap would otherwise trust uid 0
    built = build_arguments(PROFILES["top-ports"], privileged=False)
    assert built.args == ["-sT", "--top-ports", "1000", "--unprivileged", "-T4", "-n"]
    assert built.notes == ["no raw sockets (not root, or no CAP_NET_RAW): using a TCP connect scan (-sT)"]
    assert build_arguments(PROFILES["services"], privileged=True, resolve_names=True).args == [
        "-sS", "-sV", "--top-ports", "1000", "-T4"
    ]  # fmt: skip
    assert build_arguments(PROFILES["discovery"], privileged=True, ipv6=True).args == ["-6", "-sn", "-T4", "-n"]
    assert "ssl-enum-ciphers" in build_arguments(PROFILES["tls"], privileged=True).args
    with pytest.raises(InputError, match="profile udp-common needs root"):
        build_arguments(PROFILES["udp-common"], privileged=False)
