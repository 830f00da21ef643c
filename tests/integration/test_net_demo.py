"""The network part of the demo: a real scan of 127.0.0.1 only, diffed against the shipped earlier scan."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, col, select

from secops import db
from secops.cli.app import App
from secops.config import load_settings
from secops.i18n import current_language, set_language
from secops.models.netscan import NetworkScan, ObservedHost
from secops.models.scope import Scope
from secops.netscan.demo import previous_scan_file, run_demo
from secops.netscan.xmlstream import NmapXmlReader
from tests.fixtures.nmap.helpers import add_scope, as_json, sqlite_cli

pytestmark = pytest.mark.integration


def test_shipped_previous_scan_is_loopback_only() -> None:
    with open(previous_scan_file(), "rb") as fh:
        hosts = list(NmapXmlReader(fh, "demo-previous.xml").hosts())
    assert [h.row["address"] for h in hosts] == ["127.0.0.1"]


def test_demo_scans_loopback_and_shows_the_diff(tmp_path: Path) -> None:
    settings = load_settings(home=str(tmp_path), db_url=f"sqlite:///{tmp_path / 'demo.db'}", lang="en",
                             actor="demo", catalogs=())  # fmt: skip
    app = App(settings=settings)
    out = io.StringIO()
    before = current_language()
    set_language("en")
    try:
        run_demo(app, Console(file=out, width=160))
    finally:
        set_language(before)
        app.close()
    text = out.getvalue()
    assert "Network scan of 127.0.0.1 (loopback only)" in text
    assert "Changes since the earlier scan 1 (shipped sample) → 2" in text
    engine = db.make_engine(settings.db_url)
    with Session(engine) as session:
        scope = session.exec(select(Scope)).one()
        assert (scope.name, scope.cidr) == ("loopback", "127.0.0.1/32")
        scans = session.exec(select(NetworkScan).order_by(col(NetworkScan.id))).all()
        assert [(s.source, s.profile, s.targets, s.scope_id) for s in scans] == [
            ("import", "imported", [], scope.id),
            ("scan", "top-ports", ["127.0.0.1"], scope.id),
        ]
        command = scans[1].command or ""
        assert command.split()[-1] == "127.0.0.1" and " -n" in command
        addresses = session.exec(select(ObservedHost.address)).all()
        assert set(addresses) == {"127.0.0.1"}
    engine.dispose()


def test_ipv6_loopback_discovery(tmp_path: Path) -> None:
    cli = sqlite_cli(tmp_path)
    add_scope(cli.db_url, "v6", "::1/128")
    result = cli("net", "scan", "::1", "--profile", "discovery", "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result.stdout) == {
        "scan_id": 1,
        "scope": "v6",
        "profile": "discovery",
        "hosts": [{"address": "::1", "state": "up", "hostnames": [], "ports": []}],
    }
