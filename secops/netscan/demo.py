"""The network part of ``secops demo``: a real scan of 127.0.0.1 (and nothing else) and its diff against a
shipped earlier scan of the same address.

Loopback only: the demo declares the scope ``loopback`` = 127.0.0.1/32 if it is missing and scans that
single address with the fast ``top-ports`` profile, through the same scope guard as any other scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlmodel import select

from secops import audit
from secops.errors import SecopsError
from secops.i18n import _
from secops.models.scope import Scope
from secops.netscan import runner, service
from secops.netscan.diff import diff_scans
from secops.netscan.queries import get_scan, scan_hosts
from secops.resources import package_file
from secops.store import store_for

if TYPE_CHECKING:
    from secops.cli.app import App

DEMO_SCOPE, DEMO_CIDR, DEMO_TARGET, DEMO_PROFILE = "loopback", "127.0.0.1/32", "127.0.0.1", "top-ports"


def previous_scan_file() -> str:
    return str(package_file("netscan", "data", "demo-previous.xml"))


def _ensure_scope(app: App) -> None:
    with app.session() as session:
        if session.exec(select(Scope).where(Scope.name == DEMO_SCOPE)).first() is None:
            scope = Scope(name=DEMO_SCOPE, cidr=DEMO_CIDR, zone="loopback", owner="demo")
            session.add(scope)
            session.flush()
            audit.record(session, app.actor, "scope.create", "scope", DEMO_SCOPE, after=audit.snapshot(scope))


def run_demo(app: App, console: Console) -> None:
    """Import the shipped earlier scan, scan 127.0.0.1 now, and print the result and the diff."""
    from pathlib import Path

    console.rule(_("Network scan of 127.0.0.1 (loopback only)"))
    _ensure_scope(app)
    store = store_for(app.settings.home)
    with app.session() as session:
        previous = service.import_file(
            session, store, Path(previous_scan_file()), actor=app.actor, scope_name=DEMO_SCOPE
        ).scan.id
        prepared = service.prepare_scan(session, [DEMO_TARGET], DEMO_PROFILE)
    for note in prepared.arguments.notes:
        console.print(_("note: {note}").format(note=note))
    try:
        with console.status(_("nmap {profile} on {target}…").format(profile=DEMO_PROFILE, target=DEMO_TARGET)):
            raw = runner.run(
                prepared.plan,
                prepared.arguments,
                path=runner.nmap_path(app.settings.section("netscan")),
                timeout=300,
            )
    except SecopsError as exc:
        console.print(_("Network scan skipped: {reason}").format(reason=exc))
        return
    with app.session() as session:
        current = service.store_scan(session, store, prepared, raw, actor=app.actor).scan.id
    assert previous is not None and current is not None
    with app.session() as session:
        old, new = get_scan(session, previous), get_scan(session, current)
        table = Table(title=_("Scan {id}: open ports on {target}").format(id=new.id, target=DEMO_TARGET))
        for header in (_("Address"), _("Port"), _("Service"), _("Product"), _("Version")):
            table.add_column(header)
        for observed, ports in scan_hosts(session, current):
            for port in ports:
                if port.state == "open":
                    table.add_row(
                        observed.address,
                        f"{port.port}/{port.protocol}",
                        port.service or "",
                        port.product or "",
                        port.version or "",
                    )
        changes = diff_scans(session, old, new)
    if table.row_count:
        console.print(table)
    else:
        console.print(_("No open ports among the 1,000 most common TCP ports of {target}.").format(target=DEMO_TARGET))
    diff = Table(title=_("Changes since the earlier scan {a} (shipped sample) → {b}").format(a=previous, b=current))
    for header in (_("Address"), _("Change"), _("Port"), _("Before"), _("After")):
        diff.add_column(header)
    for change in changes:
        where = f"{change.port}/{change.protocol}" if change.port is not None else ""
        diff.add_row(change.address, change.kind, where, change.before or "", change.after or "")
    console.print(diff)
