"""``secops host trust NAME`` against a real sshd: shows the key, pins it after confirmation, audits it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from secops import db
from secops.collect import FactSpec, Target, collect_hosts
from secops.models import AuditEvent, Host
from tests.conftest import Cli
from tests.integration.sshd import *  # noqa: F403  (the fixtures)
from tests.integration.sshd import TestHost, free_port, keygen, public_fingerprint

pytestmark = pytest.mark.integration


def add_host(run: Cli, host: TestHost, name: str = "web1", **changes: object) -> None:
    engine = db.make_engine(run.db_url)
    db.upgrade(engine)
    row = Host(
        name=name,
        address=host.address,
        transport="ssh",
        ssh_user=host.user.name,
        ssh_port=host.server.port,
        ssh_key=str(host.user.key),
        sudo=False,
    )
    for key, value in changes.items():
        setattr(row, key, value)
    with Session(engine) as session:
        session.add(row)
        session.commit()
    engine.dispose()


def stored(run: Cli, name: str = "web1") -> tuple[Host, list[AuditEvent]]:
    engine = db.make_engine(run.db_url)
    with Session(engine) as session:
        host = session.exec(select(Host).where(Host.name == name)).one()
        events = list(session.exec(select(AuditEvent).where(AuditEvent.action == "host.trust")))
    engine.dispose()
    return host, events


def test_trust_pins_after_confirmation_then_collection_works(run: Cli, loopback_host: TestHost) -> None:
    add_host(run, loopback_host)
    fp = loopback_host.server.fingerprint
    declined = run("host", "trust", "web1", input="n\n")
    assert declined.exit_code == 1
    assert f"offers a ssh-ed25519 key:\n  {fp}\n" in declined.output and "Nothing pinned." in declined.output
    assert stored(run)[0].host_key is None

    result = run("host", "trust", "web1", input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Pinned {fp} for host web1." in result.output
    host, events = stored(run)
    assert host.host_key == fp
    assert len(events) == 1 and events[0].actor == "tester" and events[0].object_id == "web1"
    assert events[0].before["host_key"] is None and events[0].after["host_key"] == fp
    assert events[0].details["verified_by"] == "operator"

    again = run("host", "trust", "web1", "--yes")
    assert again.exit_code == 0 and "already pinned; nothing changed" in again.output
    assert len(stored(run)[1]) == 1

    (res,) = collect_hosts([Target.from_host(host, run.home)], [FactSpec("who", "id -un")])
    assert res.error is None and res.facts["who"].stdout == f"{loopback_host.user.name}\n"


def test_trust_with_fingerprint(run: Cli, loopback_host: TestHost, tmp_path: Path) -> None:
    add_host(run, loopback_host)
    wrong = public_fingerprint(keygen(tmp_path / "other"))
    bad = run("host", "trust", "web1", "--fingerprint", wrong)
    assert bad.exit_code == 2
    assert f"does not match the expected {wrong}; nothing was pinned" in bad.output
    assert stored(run)[0].host_key is None
    good = run("host", "trust", "web1", "--fingerprint", loopback_host.server.fingerprint)
    assert good.exit_code == 0, good.output
    host, events = stored(run)
    assert (
        host.host_key == loopback_host.server.fingerprint
        and events[0].details["verified_by"] == "fingerprint"
    )


def test_changed_key_needs_fingerprint_not_yes(run: Cli, loopback_host: TestHost, tmp_path: Path) -> None:
    old = public_fingerprint(keygen(tmp_path / "old"))
    add_host(run, loopback_host, host_key=old)
    (res,) = collect_hosts([Target.from_host(stored(run)[0], run.home)], [FactSpec("who", "id -un")])
    assert res.error_kind == "host_key_changed"
    refused = run("host", "trust", "web1", "--yes")
    assert refused.exit_code == 2 and "re-pin it with --fingerprint" in refused.output
    assert f"the pinned key was {old}" in refused.output
    assert stored(run)[0].host_key == old
    ok = run("host", "trust", "web1", "--fingerprint", loopback_host.server.fingerprint)
    assert ok.exit_code == 0 and stored(run)[0].host_key == loopback_host.server.fingerprint


def test_trust_errors(run: Cli, loopback_host: TestHost) -> None:
    add_host(run, loopback_host, name="gone", ssh_port=free_port())
    add_host(run, loopback_host, name="here", transport="local")
    missing = run("host", "trust", "nosuch", "--yes")
    assert missing.exit_code == 2 and "host nosuch not found" in missing.output
    unreachable = run("host", "trust", "gone", "--yes")
    assert unreachable.exit_code == 3 and "connection refused" in unreachable.output
    local = run("host", "trust", "here", "--yes")
    assert local.exit_code == 2 and "local transport" in local.output
    assert json.loads(json.dumps([e.action for e in stored(run, "here")[1]])) == []
