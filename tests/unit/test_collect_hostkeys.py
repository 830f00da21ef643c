"""Host-key verification against known_hosts files (plain, hashed by ssh-keygen -H, [host]:port) and pins."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from secops.collect.errors import HostKeyChanged, HostKeyUnknown
from secops.collect.hostkeys import (
    fingerprint_blob,
    normalize_fingerprint,
    preferred_key_types,
    read_known_hosts,
    verify,
)
from secops.collect.target import Target
from secops.errors import InputError

KEY_A = base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIOBGdAvKQrvdHBHJgv8LGEEPMPyoQNEMOldx9JVJqu4Z")
KEY_B = base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIH9FmqDR6zCzwc0hUjsVNmEZl6Fw1PyW0Rl7ZqWk0uSy")
KEY_R = base64.b64decode("AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHQ=")
A64, B64 = base64.b64encode(KEY_A).decode(), base64.b64encode(KEY_B).decode()


def target(tmp_path: Path, text: str | None, *, port: int = 22, pin: str | None = None) -> Target:
    known = None
    if text is not None:
        known = tmp_path / "known_hosts"
        known.write_text(text)
    return Target(name="web1", address="127.0.0.5", port=port, known_hosts=known, host_key=pin)


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    pub = tmp_path / "k.pub"
    pub.write_text(f"ssh-ed25519 {A64} c\n")
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[1] == fingerprint_blob(KEY_A)
    assert fingerprint_blob(KEY_A) == "SHA256:" + base64.b64encode(
        hashlib.sha256(KEY_A).digest()
    ).decode().rstrip("=")


def test_known_key_accepted_and_changed_key_refused(tmp_path: Path) -> None:
    t = target(tmp_path, f"# comment\n127.0.0.9 ssh-ed25519 {B64}\nweb,127.0.0.5 ssh-ed25519 {A64}\n")
    assert verify(t, "ssh-ed25519", KEY_A) == fingerprint_blob(KEY_A)
    with pytest.raises(HostKeyChanged) as exc:
        verify(t, "ssh-ed25519", KEY_B)
    assert exc.value.fingerprint == fingerprint_blob(KEY_B)
    assert "HOST KEY CHANGED" in exc.value.reason and f"{tmp_path}/known_hosts:3" in exc.value.reason


def test_unknown_key_refused_with_fingerprint_and_hint(tmp_path: Path) -> None:
    t = target(tmp_path, f"127.0.0.9 ssh-ed25519 {A64}\n")
    with pytest.raises(HostKeyUnknown) as exc:
        verify(t, "ssh-ed25519", KEY_A)
    assert fingerprint_blob(KEY_A) in exc.value.reason
    assert "secops host trust web1" in exc.value.reason


def test_port_form_and_wildcards(tmp_path: Path) -> None:
    t = target(tmp_path, f"[127.0.0.5]:2222 ssh-ed25519 {A64}\n", port=2222)
    assert verify(t, "ssh-ed25519", KEY_A)
    with pytest.raises(HostKeyUnknown):  # the same address on port 22 is another entry
        verify(target(tmp_path, f"[127.0.0.5]:2222 ssh-ed25519 {A64}\n"), "ssh-ed25519", KEY_A)
    assert verify(target(tmp_path, f"127.0.0.* ssh-ed25519 {A64}\n"), "ssh-ed25519", KEY_A)
    with pytest.raises(HostKeyUnknown):
        verify(target(tmp_path, f"127.0.0.*,!127.0.0.5 ssh-ed25519 {A64}\n"), "ssh-ed25519", KEY_A)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_hashed_entries_written_by_ssh_keygen(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.5]:2222 ssh-ed25519 {A64}\n127.0.0.5 ssh-ed25519 {B64}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    assert "127.0.0.5" not in known.read_text()
    t = Target(name="web1", address="127.0.0.5", port=2222, known_hosts=known)
    assert verify(t, "ssh-ed25519", KEY_A) == fingerprint_blob(KEY_A)
    with pytest.raises(HostKeyChanged):
        verify(t, "ssh-ed25519", KEY_B)
    assert [k.blob for k in read_known_hosts(known, "127.0.0.5")] == [KEY_B]


def test_revoked_key_refused(tmp_path: Path) -> None:
    t = target(tmp_path, f"@revoked * ssh-ed25519 {A64}\n127.0.0.5 ssh-ed25519 {A64}\n")
    with pytest.raises(HostKeyChanged, match="@revoked"):
        verify(t, "ssh-ed25519", KEY_A)


def test_pinned_fingerprint(tmp_path: Path) -> None:
    fp = fingerprint_blob(KEY_A)
    assert verify(target(tmp_path, None, pin=fp + "="), "ssh-ed25519", KEY_A) == fp  # padding tolerated
    with pytest.raises(HostKeyChanged) as exc:
        verify(target(tmp_path, None, pin=fp), "ssh-ed25519", KEY_B)
    assert f"pinned is {fp}" in exc.value.reason
    # a pin that matches does not override a known_hosts file recording another key of that type
    with pytest.raises(HostKeyChanged):
        verify(target(tmp_path, f"127.0.0.5 ssh-ed25519 {B64}\n", pin=fp), "ssh-ed25519", KEY_A)


def test_bad_fingerprint_is_an_input_error() -> None:
    for bad in ("MD5:aa:bb", "SHA256:!!!", "SHA256:abcd"):
        with pytest.raises(InputError):
            normalize_fingerprint(bad)


def test_preferred_key_types_follow_records(tmp_path: Path) -> None:
    t = target(tmp_path, f"127.0.0.5 ecdsa-sha2-nistp256 {base64.b64encode(KEY_R).decode()}\n")
    assert preferred_key_types(t, ("ssh-ed25519", "ecdsa-sha2-nistp256")) == ["ecdsa-sha2-nistp256"]
    assert preferred_key_types(target(tmp_path, ""), ("ssh-ed25519",)) is None
