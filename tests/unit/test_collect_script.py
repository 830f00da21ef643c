"""The batched script and its framing, run for real through ``sh -s`` by the local transport."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from secops.collect import CollectResult, FactSpec, RawFact, Target, collect_hosts, collect_one
from secops.collect.script import SKIP_NO_SUDO, FrameParser, build_script, new_nonce, parse_output
from secops.errors import InputError
from secops.models import Host

LOCAL = Target(name="here", address="127.0.0.1", transport="local")


def test_facts_rc_stdout_stderr_kept_apart() -> None:
    specs = [
        FactSpec("plain", "printf 'a\\nb'"),
        FactSpec("failing", "echo out; echo oops >&2; exit 3"),
        FactSpec("trailing_newlines", "printf 'x\\n\\n'"),
        FactSpec("empty", "true"),
    ]
    result = collect_one(LOCAL, specs)
    assert result.error is None and result.transport == "local"
    assert result.facts == {
        "plain": RawFact(rc=0, stdout="a\nb"),
        "failing": RawFact(rc=3, stdout="out\n", stderr="oops\n"),
        "trailing_newlines": RawFact(rc=0, stdout="x\n\n"),
        "empty": RawFact(rc=0, stdout=""),
    }


def test_marker_text_in_output_does_not_confuse_the_parser() -> None:
    nonce = new_nonce()
    specs = [
        FactSpec("liar", "printf '\\nSECOPS-0000 O 0\\n\\nSECOPS-0000 DONE\\nB x\\n'"),
        FactSpec("next", "echo ok"),
    ]
    result = collect_one(LOCAL, specs)
    assert result.facts["liar"].stdout == "\nSECOPS-0000 O 0\n\nSECOPS-0000 DONE\nB x\n"
    assert result.facts["next"] == RawFact(rc=0, stdout="ok\n")
    assert nonce != new_nonce()


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    result = collect_one(
        LOCAL, [FactSpec("bytes", "printf 'caf\\303\\251 \\377\\376 end'; printf '\\200' >&2")]
    )
    assert result.facts["bytes"] == RawFact(rc=0, stdout="café \ufffd\ufffd end", stderr="\ufffd")


def test_fact_timeout_and_output_cap() -> None:
    specs = [
        FactSpec("hang", "sleep 30", timeout=1),
        FactSpec("huge", "yes secops | head -c 5000000", timeout=10),
        FactSpec("after", "echo still here"),
    ]
    started = time.monotonic()
    result = collect_one(LOCAL, specs, output_cap=100_000)
    assert time.monotonic() - started < 8
    assert result.error is None
    assert result.facts["hang"] == RawFact(rc=None, stdout="", timed_out=True)
    huge = result.facts["huge"]
    assert huge.truncated and len(huge.stdout) == 100_000 and huge.stdout.startswith("secops\nsecops\n")
    assert result.facts["after"] == RawFact(rc=0, stdout="still here\n")


def test_host_deadline_keeps_finished_facts() -> None:
    specs = [FactSpec("first", "echo done"), FactSpec("stuck", "sleep 30", timeout=60)]
    started = time.monotonic()
    result = collect_one(LOCAL, specs, host_deadline=1.5)
    assert 1.4 < time.monotonic() - started < 5
    assert result.error_kind == "timeout"
    assert result.error == "timeout: host deadline of 1.5s passed (while running fact stuck)"
    assert result.facts == {"first": RawFact(rc=0, stdout="done\n")}


@pytest.mark.skipif(os.geteuid() == 0, reason="root runs root facts directly")
def test_root_fact_skipped_without_sudo() -> None:
    result = collect_one(LOCAL, [FactSpec("shadow", "cat /etc/shadow", root=True)])
    assert result.facts["shadow"] == RawFact(rc=None, stdout="", skipped=SKIP_NO_SUDO)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_root_fact_runs_directly_as_root() -> None:
    result = collect_one(LOCAL, [FactSpec("whoami", "id -u", root=True)])
    assert result.facts["whoami"] == RawFact(rc=0, stdout="0\n")


def test_parser_tolerates_a_cut_stream() -> None:
    nonce = "SECOPS-n"
    data = (
        b"motd noise\n"
        b"\nSECOPS-n B a\nA\nSECOPS-n O 0\n\nSECOPS-n E\n"
        b"\nSECOPS-n S b needs root; host has no sudo\n"
        b"\nSECOPS-n B c\npartial out"
    )
    parsed = parse_output(data, nonce, cap=100)
    assert parsed.facts == {
        "a": RawFact(rc=0, stdout="A"),
        "b": RawFact(rc=None, stdout="", skipped=SKIP_NO_SUDO),
    }
    assert parsed.partial == "c" and not parsed.done and parsed.preamble.data == b"motd noise\n"


def test_script_quotes_commands_and_ids() -> None:
    script = build_script([FactSpec("x", "echo '$HOME' \"; rm -rf /\"")], "SECOPS-n", sudo=False, cap=10)
    assert "f x 20 0 'echo '\"'\"'$HOME'\"'\"' \"; rm -rf /\"'" in script


def test_many_hosts_in_order_with_callback() -> None:
    seen: list[str] = []
    targets = [Target(name=f"h{i}", address="127.0.0.1", transport="local") for i in range(5)]
    results = collect_hosts(
        targets, [FactSpec("n", "echo hi")], concurrency=3, on_result=lambda r: seen.append(r.host)
    )
    assert [r.host for r in results] == ["h0", "h1", "h2", "h3", "h4"]
    assert sorted(seen) == ["h0", "h1", "h2", "h3", "h4"]
    assert all(isinstance(r, CollectResult) and r.facts["n"].stdout == "hi\n" for r in results)


def test_target_from_host_resolves_paths(tmp_path: Path) -> None:
    host = Host(
        name="db1",
        address="127.0.0.7",
        ssh_user="ops",
        ssh_port=2201,
        ssh_key="keys/id",
        known_hosts="~/kh",
        host_key="SHA256:x",
        sudo=True,
    )
    t = Target.from_host(host, tmp_path)
    assert (t.transport, t.user, t.port, t.key, t.sudo) == ("ssh", "ops", 2201, tmp_path / "keys/id", True)
    assert t.known_hosts == Path("~/kh").expanduser() and t.host_key == "SHA256:x"
    bare = Target.from_host(Host(name="db2", address="127.0.0.8"), tmp_path)
    assert (bare.port, bare.key, bare.known_hosts, bare.sudo) == (22, None, None, False)
    assert bare.known_hosts_files() == [Path("~/.ssh/known_hosts").expanduser()]
    with pytest.raises(InputError, match="unknown transport 'telnet'"):
        Target(name="x", address="127.0.0.1", transport="telnet")


def test_stream_split_at_every_byte_boundary() -> None:
    nonce = "SECOPS-abc"
    data = b"\nSECOPS-abc B a\nhello\nSECOPS-abc O 0\nwarn\nSECOPS-abc E\n\nSECOPS-abc DONE\n"
    for size in (1, 2, 3, 7, 13):
        parser = FrameParser(nonce, cap=100)
        for i in range(0, len(data), size):
            parser.feed(data[i : i + size])
        assert parser.done and parser.facts == {"a": RawFact(rc=0, stdout="hello", stderr="warn")}


def test_runaway_output_stops_the_host() -> None:
    result = collect_one(LOCAL, [FactSpec("flood", "yes"), FactSpec("never", "echo no")], output_cap=1 << 20)
    assert result.error_kind == "other"
    assert result.error == (
        "output limit: the host sent more than the total output limit (while running fact flood)"
    )
    assert result.facts == {}


def test_failing_callback_stops_starting_hosts() -> None:
    targets = [Target(name=f"h{i}", address="127.0.0.1", transport="local") for i in range(20)]
    seen: list[str] = []

    def boom(result: CollectResult) -> None:
        seen.append(result.host)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect_hosts(targets, [FactSpec("n", "sleep 0.2")], concurrency=2, on_result=boom)
    assert len(seen) == 1


def test_nothing_holds_the_streams_open_after_the_script() -> None:
    collect_one(LOCAL, [FactSpec("warm", "true")])
    started = time.monotonic()
    result = collect_one(LOCAL, [FactSpec("quick", "echo quick")])
    assert result.facts["quick"].stdout == "quick\n"
    assert time.monotonic() - started < 0.5  # the watchdog's sleep must not keep a pipe open for a second
