"""Parsers on real outputs captured from a Debian 12 host, and every fact command run once on this machine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from secops.catalog import load_catalog
from secops.collect.bundle import RawFact
from secops.probes import FactUnavailable, evaluate, parse_facts
from secops.probes.parsers import PARSERS

DATA = Path(__file__).parent / "probes_data"


def real(name: str) -> str:
    return (DATA / f"debian12_{name}.txt").read_text(encoding="utf-8")


def parse(parser: str, text: str, **options: object) -> object:
    return PARSERS[parser](text, options)


def test_sshd_t_output() -> None:
    cfg = parse("keyvalue", real("sshd_config"), lower_keys=True, repeated="list")
    assert isinstance(cfg, dict)
    assert cfg["permitrootlogin"] == "without-password"
    assert cfg["passwordauthentication"] == "yes"
    assert cfg["maxauthtries"] == "6"
    assert cfg["hostkey"] == [
        "/etc/ssh/ssh_host_rsa_key",
        "/etc/ssh/ssh_host_ecdsa_key",
        "/etc/ssh/ssh_host_ed25519_key",
    ]
    assert cfg["listenaddress"] == ["[::]:22", "0.0.0.0:22"]


def test_login_defs_and_passwd_and_shadow() -> None:
    defs = parse("keyvalue", real("login_defs"))
    assert isinstance(defs, dict)
    assert (defs["PASS_MAX_DAYS"], defs["PASS_MIN_DAYS"], defs["UMASK"]) == ("99999", "0", "022")
    users = parse("passwd", real("passwd"))
    assert isinstance(users, list) and users[0] == {
        "user": "root", "uid": 0, "gid": 0, "gecos": "root", "home": "/root", "shell": "/bin/bash"
    }  # fmt: skip
    assert [u["user"] for u in users if u["uid"] == 0] == ["root"]
    shadow = parse("shadow", real("shadow"))
    assert isinstance(shadow, list) and len(shadow) == len(users)
    assert shadow[0] == {
        "user": "root", "password": "LOCKED", "lastchg": 20228, "min": 0, "max": 99999, "warn": 7,
        "inactive": None, "expire": None,
    }  # fmt: skip
    assert "$" not in real("shadow")  # no hash ever leaves the host


def test_pam_and_lastlog_and_stat() -> None:
    pw = parse("pam_password", real("pam_password"))
    assert pw == {"module": None, "enforced": False, "min_length": 6, "required_classes": 0, "minclass": 0,
                  "dcredit": 0, "ucredit": 0, "lcredit": 0, "ocredit": 0, "remember": 0}  # fmt: skip
    assert parse("pam_lockout", real("pam_lockout")) == {
        "module": None, "enabled": False, "deny": 0, "unlock_time": None, "fail_interval": None
    }  # fmt: skip
    last = parse("lastlog", real("lastlog"))
    assert isinstance(last, dict) and last["today"] == 1795748997 // 86400
    assert last["days_since_login"]["root"] is None and len(last["days_since_login"]) == 25
    stat = parse("stat", real("file_stat"))
    assert stat["/etc/shadow"] == {"mode": "640", "owner": "root", "group": "shadow"}  # type: ignore[index]


def test_debian_defaults_evaluate_as_expected() -> None:
    """The captured host is a stock Debian 12: exact outcomes of the contract checks on it."""
    catalog = load_catalog()
    raw = {
        name: RawFact(rc=0, stdout=real(name))
        for name in ("sshd_config", "passwd", "file_stat", "pam_password")
    }
    facts = parse_facts(catalog, raw)
    got = {cid: evaluate(catalog.checks[cid], facts, {"level": 3}).status for cid in (
        "ssh_root_login_disabled", "ssh_password_auth_disabled", "ssh_empty_passwords_disabled",
        "ssh_max_auth_tries_limited", "passwd_file_permissions", "shadow_file_permissions",
        "password_min_length", "uid0_only_root", "ssh_weak_ciphers_disabled", "sshd_config_permissions",
    )}  # fmt: skip
    assert got == {
        "ssh_root_login_disabled": "fail", "ssh_password_auth_disabled": "fail",
        "ssh_empty_passwords_disabled": "pass", "ssh_max_auth_tries_limited": "fail",
        "passwd_file_permissions": "pass", "shadow_file_permissions": "pass", "password_min_length": "fail",
        "uid0_only_root": "pass", "ssh_weak_ciphers_disabled": "pass", "sshd_config_permissions": "pass",
    }  # fmt: skip
    outcome = evaluate(catalog.checks["ssh_max_auth_tries_limited"], facts, {"level": 3})
    assert outcome.observed == "sshd_config.maxauthtries = 6"
    assert outcome.detail == "sshd_config.maxauthtries ≤ 4 (got 6)"


def test_every_fact_command_runs_here() -> None:
    """Each FactSpec.command runs under sh on this Debian machine: no syntax error, exit 0, parsable, fast."""
    assert shutil.which("sh")
    catalog = load_catalog()
    timings: dict[str, float] = {}
    raw: dict[str, RawFact] = {}
    for spec in catalog.fact_specs():
        started = time.perf_counter()
        proc = subprocess.run(
            ["sh", "-c", spec.command], capture_output=True, text=True, timeout=spec.timeout
        )
        timings[spec.id] = time.perf_counter() - started
        assert proc.returncode == 0, (spec.id, proc.stderr)
        assert "syntax error" not in proc.stderr, (spec.id, proc.stderr)
        raw[spec.id] = RawFact(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)
    facts = parse_facts(catalog, raw)
    errors = {k: v for k, v in facts.items() if isinstance(v, FactUnavailable) and v.status == "error"}
    assert errors == {}
    print({k: round(v * 1000) for k, v in timings.items()})
    assert sum(timings.values()) < 3.0, timings  # about 0.5 s here unloaded; generous for a shared CI box
    outcomes = {
        check.id: evaluate(check, facts, {"level": 3}).status for check in catalog.checks_for("linux")
    }
    assert "error" not in outcomes.values(), {k: v for k, v in outcomes.items() if v == "error"}
