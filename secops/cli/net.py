"""`secops net` commands: scan, import, list, show, diff, unknown, profiles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.i18n import _
from secops.netscan import diff as net_diff
from secops.netscan import queries, runner, service, unknowns
from secops.netscan.profiles import PROFILES
from secops.store import store_for
from secops.timeutil import local


@click.group("net")
def net() -> None:
    """Network inventory scans (nmap) inside declared scopes."""


SUMMARY_ROWS = 50  # hosts in the table printed after a scan or an import; `net show` prints them all


def _show_scan(app: App, scan_id: int, fmt: str, limit: int | None = None) -> None:
    """The scan as a table (at most ``limit`` hosts: a 10,000-host table takes longer to print than to
    import) or as JSON/CSV (always whole)."""
    with app.session() as session:
        payload = queries.scan_payload(session, queries.get_scan(session, scan_id))
    rows = [
        {
            "address": h["address"],
            "state": h["state"],
            "hostnames": h["hostnames"],
            "ports": [
                f"{p['port']}/{p['protocol']} {p['service'] or ''}".strip() for p in h["ports"] if p["state"] == "open"
            ],
        }
        for h in payload["hosts"]
    ]
    title = _("Scan {id} ({profile}, scope {scope})").format(
        id=payload["scan_id"], profile=payload["profile"], scope=payload["scope"] or "-"
    )
    columns = [
        ("address", _("Address")),
        ("state", _("State")),
        ("hostnames", _("Names")),
        ("ports", _("Open ports")),
    ]
    if fmt != "table" or limit is None or len(rows) <= limit:
        emit(rows, columns, fmt, title=title, data=payload)
        return
    emit(rows[:limit], columns, fmt, title=title)
    click.echo(
        _("{shown} of {total} hosts shown; all of them: secops net show {id}").format(
            shown=limit, total=len(rows), id=scan_id
        )
    )


@net.command("scan")
@click.argument("targets", nargs=-1, required=True)
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default="top-ports", show_default=True)
@click.option("--resolve", "resolve_names", is_flag=True, help="Let nmap look up reverse DNS names (off by default).")
@click.option("--timeout", type=click.IntRange(1, 24 * 3600), default=None, help="Seconds before nmap is stopped.")
@format_option
@pass_app
def scan_cmd(
    app: App, targets: tuple[str, ...], profile_name: str, resolve_names: bool, timeout: int | None, fmt: str
) -> None:
    """Scan SCOPE or TARGET… (IP, CIDR, hostname) with a named profile; every target must be in a scope.

    Exit 3 when a single address named as a target did not answer (the scan is still stored).
    """
    err = Console(stderr=True)
    with app.session() as session:
        prepared = service.prepare_scan(session, list(targets), profile_name, resolve_names=resolve_names)
    for note in prepared.arguments.notes:
        click.echo(_("note: {note}").format(note=note), err=True)
    config = app.settings.section("netscan")
    wait: Callable[[Callable[[], bytes]], bytes] | None = None
    if err.is_terminal:
        label = _("nmap {profile}: {count} address(es) in scope {scope}…").format(
            profile=profile_name, count=prepared.plan.addresses, scope=prepared.plan.scope.name
        )

        def with_status(call: Callable[[], bytes]) -> bytes:
            with err.status(label):
                return call()

        wait = with_status

    raw = runner.run(
        prepared.plan,
        prepared.arguments,
        path=runner.nmap_path(config),
        timeout=timeout or int(config.get("timeout", prepared.profile.timeout)),
        wait=wait,
    )
    with app.session() as session:
        result = service.store_scan(session, store_for(app.settings.home), prepared, raw, actor=app.actor)
        scan_id = result.scan.id
        missed = service.unreached(session, prepared, result.scan)
    assert scan_id is not None
    _show_scan(app, scan_id, fmt, limit=SUMMARY_ROWS)
    if missed:
        click.echo(_("incomplete: not reached: {addresses}").format(addresses=", ".join(missed)), err=True)
        raise click.exceptions.Exit(3)


@net.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--scope", "scope_name", help="Scope to file the scan under (default: the smallest holding every host).")
@format_option
@pass_app
def import_cmd(app: App, file: Path, scope_name: str | None, fmt: str) -> None:
    """Import nmap XML made elsewhere (streamed; a broken file imports nothing)."""
    with app.session() as session:
        result = service.import_file(
            session, store_for(app.settings.home), file, actor=app.actor, scope_name=scope_name
        )
        scan_id = result.scan.id
    assert scan_id is not None
    _show_scan(app, scan_id, fmt, limit=SUMMARY_ROWS)


@net.command("list")
@click.option("--scope", help="Only scans of this scope.")
@format_option
@pass_app
def list_cmd(app: App, scope: str | None, fmt: str) -> None:
    """Recorded scans, oldest first."""
    with app.session() as session:
        rows = queries.list_scans(session, scope)
    data = [{k: r[k] for k in ("scan_id", "scope", "profile", "started", "hosts_up")} for r in rows]
    table = [{**r, "started": local(r["started"], app.settings.tz)} for r in rows]
    columns = [
        ("scan_id", _("Scan")),
        ("scope", _("Scope")),
        ("profile", _("Profile")),
        ("started", _("Started")),
        ("hosts_up", _("Hosts up")),
        ("source", _("Source")),
    ]
    emit(table, columns, fmt, data=data)


@net.command("show")
@click.argument("scan_id", type=int)
@format_option
@pass_app
def show_cmd(app: App, scan_id: int, fmt: str) -> None:
    """One scan: hosts and open ports."""
    _show_scan(app, scan_id, fmt)


@net.command("diff")
@click.argument("scan_a", type=int, required=False)
@click.argument("scan_b", type=int, required=False)
@click.option("--scope", help="Compare the last two scans of this scope (default: the latest scan's scope).")
@format_option
@pass_app
def diff_cmd(app: App, scan_a: int | None, scan_b: int | None, scope: str | None, fmt: str) -> None:
    """What changed between two scans (hosts up/down, ports opened/closed, services, OS)."""
    with app.session() as session:
        old, new = net_diff.resolve_pair(session, scan_a, scan_b, scope)
        changes = net_diff.diff_scans(session, old, new)
    payload = net_diff.diff_payload(old, new, changes)
    columns = [
        ("address", _("Address")),
        ("kind", _("Change")),
        ("port", _("Port")),
        ("protocol", _("Protocol")),
        ("before", _("Before")),
        ("after", _("After")),
    ]
    title = _("Changes from scan {a} to scan {b}").format(a=old.id, b=new.id)
    emit(payload["changes"], columns, fmt, title=title, data=payload)


@net.command("unknown")
@click.option("--scope", help="Only this scope (default: every scope with a scan).")
@format_option
@pass_app
def unknown_cmd(app: App, scope: str | None, fmt: str) -> None:
    """Hosts and open ports seen but not in the inventory, and inventory hosts not seen in the last scan."""
    with app.session() as session:
        rows = unknowns.find_unknowns(session, scope)
    columns = [
        ("scope", _("Scope")),
        ("address", _("Address")),
        ("kind", _("Finding")),
        ("host", _("Host")),
        ("ports", _("Ports")),
    ]
    emit(rows, columns, fmt, data=rows)


@net.command("profiles")
@format_option
def profiles_cmd(fmt: str) -> None:
    """The named nmap profiles and their arguments."""
    rows: list[dict[str, Any]] = [
        {"name": p.name, "arguments": " ".join(p.args), "description": _(p.description)} for p in PROFILES.values()
    ]
    emit(
        rows,
        [("name", _("Profile")), ("arguments", _("nmap arguments")), ("description", _("Description"))],
        fmt,
    )


COMMANDS: list[click.Command] = [net]
