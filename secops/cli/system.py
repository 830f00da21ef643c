"""`secops system`, `secops host` and `secops scope`: look at the inventory (table, JSON or CSV)."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from secops.cli.app import App, pass_app
from secops.cli.output import _cell, console, emit, format_option
from secops.i18n import _
from secops.inventory import queries, views
from secops.netscan.queries import host_observations
from secops.timeutil import local

SYSTEM_COLUMNS = ("code", "name", "owner", "operator", "proposed_level", "status", "approved_level", "hosts")
HOST_COLUMNS = ("name", "address", "system", "os", "zone", "transport")
SCOPE_COLUMNS = ("name", "cidr", "zone", "owner")
HEADERS = {
    "code": "Code",
    "name": "Name",
    "owner": "Owner",
    "operator": "Operator",
    "proposed_level": "Proposed level",
    "status": "Status",
    "approved_level": "Approved level",
    "hosts": "Hosts",
    "address": "Address",
    "system": "System",
    "os": "OS",
    "zone": "Zone",
    "transport": "Transport",
    "cidr": "CIDR",
}
INPUT_LABELS = {
    "function": "Function (Art. 6.2)",
    "information": "Information (Art. 6.1)",
    "online_public_service_level": "Online public service level",
    "conditional_business_service": "Conditional business service",
    "personal_data_users": "Users whose personal data it processes",
    "infrastructure_scope": "Infrastructure scope",
    "ics_construction_grade": "Construction grade (ICS)",
    "state_secret_harm": "Harm if state secrets leak",
    "national_egov_24x7": "National e-Government system, 24/7",
    "national_critical_data": "Critical national data",
    "designated_level_5": "Designated level 5 by the Prime Minister",
}


def _columns(keys: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(key, _(HEADERS[key])) for key in keys]


def _localized(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """Status words are translated in tables only; JSON and CSV keep the English values."""
    if fmt != "table":
        return rows
    return [{**row, "status": _(row["status"])} if "status" in row else row for row in rows]


@click.group("system")
def system_group() -> None:
    """Information systems: list them, show one with its level, approval and dossier."""


@system_group.command("list")
@format_option
@pass_app
def system_list(app: App, fmt: str) -> None:
    """List systems with owner, operator, level status and host count."""
    with app.session() as session:
        rows = views.system_rows(session)
    emit(_localized(rows, fmt), _columns(SYSTEM_COLUMNS), fmt, title=_("Information systems"), data=rows)


@system_group.command("show")
@click.argument("code")
@format_option
@pass_app
def system_show(app: App, code: str, fmt: str) -> None:
    """Show everything about system CODE."""
    with app.session() as session:
        system = queries.get_system(session, code)
        detail = views.system_detail(session, system, app.lang, app.settings.catalogs)
    if fmt == "json":
        emit([], [], fmt, data=detail)
    elif fmt == "csv":
        emit(_flat(detail), [("field", "field"), ("value", "value")], fmt)
    else:
        _print_system(detail)


def _flat(value: Any, prefix: str = "") -> list[dict[str, Any]]:
    """A nested dict as (dotted field, value) rows for CSV."""
    if isinstance(value, dict):
        rows: list[dict[str, Any]] = []
        for key, item in value.items():
            rows.extend(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [row for i, item in enumerate(value) for row in _flat(item, f"{prefix}[{i}]")]
    return [{"field": prefix, "value": value}]


def _kv(title: str, pairs: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in pairs:
        table.add_row(label, _cell(value))
    return table


def _grid(title: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for _key, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key, _h in columns))
    return table


def _agency_text(agency: dict[str, str] | None) -> str | None:
    return None if agency is None else f"{agency['name']} ({agency['code']})"


def _print_system(d: dict[str, Any]) -> None:
    out = console()
    approval = d["approval"] or {}
    procedure = d["procedure"]
    out.print(
        _kv(
            f"{d['code']} — {d['name']}",
            [
                (_("Description"), d["description"]),
                (_("Owner"), _agency_text(d["owner"])),
                (_("Operator"), _agency_text(d["operator"])),
                (_("Legal regime"), d["regime"]),
                (_("Status"), _(d["status"])),
                (_("Proposed level"), d["proposed"]["level"]),
                (_("Missing inputs"), d["proposed"]["missing"]),
                (_("Approved level"), approval.get("level")),
                (
                    _("Decision"),
                    " — ".join(
                        str(v) for v in (approval.get("decision_ref"), approval.get("decision_date")) if v
                    )
                    or None,
                ),
                (_("Approver"), approval.get("approver")),
                (_("Approval note"), approval.get("reason")),
                (
                    _("Appraised by"),
                    procedure["appraisal"] if procedure["available"] else _("(level engine not installed)"),
                ),
                (
                    _("Approved by"),
                    procedure["approval"] if procedure["available"] else _("(level engine not installed)"),
                ),
                (_("Part of"), d["part_of"]),
            ],
        )
    )
    out.print(_kv(_("Classification inputs"), [(_(INPUT_LABELS[k]), v) for k, v in d["inputs"].items()]))
    reasons = d["proposed"]["reasons"]
    if reasons:
        out.print(
            _grid(
                _("Reasons for the proposed level"),
                [("level", _("Level")), ("basis", _("Legal basis")), ("text", _("Criterion"))],
                reasons,
            )
        )
    if d["components"]:
        out.print(
            _grid(
                _("Components"),
                _columns(("code", "name", "proposed_level", "approved_level", "status")),
                _localized(d["components"], "table"),
            )
        )
    if d["hosts"]:
        out.print(_grid(_("Hosts"), _columns(HOST_COLUMNS), d["hosts"]))
    out.print(
        _grid(
            _("Dossier (Art. 15)"),
            [
                ("id", _("Item")),
                ("title", _("Title")),
                ("required", _("Required")),
                ("present", _("Recorded")),
                ("ref", _("Reference")),
            ],
            d["dossier"],
        )
    )


@click.group("host")
def host_group() -> None:
    """Hosts of the inventory and how secops reaches them."""


@host_group.command("list")
@click.option("--system", "system_code", help="Only the hosts of this system.")
@format_option
@pass_app
def host_list(app: App, system_code: str | None, fmt: str) -> None:
    """List hosts."""
    with app.session() as session:
        systems = {s.id: s.code for s in queries.list_systems(session) if s.id is not None}
        rows = [views.host_row(h, systems) for h in queries.list_hosts(session, system_code)]
        seen = host_observations(session, [r["address"] for r in rows])
    for r in rows:  # null when no scan has seen the address
        o = seen.get(r["address"])
        r["last_seen"] = o["last_seen"] if o else None
        r["open_ports"] = o["open_ports"] if o else None
    shown = [{**r, "last_seen": local(r["last_seen"], app.settings.tz) if r["last_seen"] else None} for r in rows]
    columns = [*_columns(HOST_COLUMNS), ("last_seen", _("Last seen")), ("open_ports", _("Open ports"))]
    emit(shown, columns, fmt, title=_("Hosts"), data=rows)


@host_group.command("show")
@click.argument("name")
@format_option
@pass_app
def host_show(app: App, name: str, fmt: str) -> None:
    """Show host NAME with its connection settings and declared services."""
    with app.session() as session:
        detail = views.host_detail(session, queries.get_host(session, name))
    if fmt == "json":
        emit([], [], fmt, data=detail)
    elif fmt == "csv":
        emit(_flat(detail), [("field", "field"), ("value", "value")], fmt)
    else:
        ssh = detail["ssh"]
        console().print(
            _kv(
                detail["name"],
                [
                    (_("Address"), detail["address"]),
                    (_("System"), detail["system"] and f"{detail['system_name']} ({detail['system']})"),
                    (_("OS"), detail["os"]),
                    (_("Zone"), detail["zone"]),
                    (_("Transport"), detail["transport"]),
                    (_("SSH user"), ssh["user"]),
                    (_("SSH port"), ssh["port"]),
                    (_("SSH key"), ssh["key"]),
                    (_("Known-hosts file"), ssh["known_hosts"]),
                    (_("Pinned host key"), ssh["host_key"]),
                    (_("sudo"), ssh["sudo"]),
                    (_("Declared services"), detail["services"]),
                ],
            )
        )


@click.group("scope")
def scope_group() -> None:
    """Network scopes: the only networks a scan may touch."""


@scope_group.command("list")
@format_option
@pass_app
def scope_list(app: App, fmt: str) -> None:
    """List network scopes."""
    with app.session() as session:
        rows = [views.scope_row(s) for s in queries.list_scopes(session)]
    emit(rows, _columns(SCOPE_COLUMNS), fmt, title=_("Network scopes"), data=rows)


# Other features hang their subcommands on these groups (e.g. ``host trust``).
system, host, scope = system_group, host_group, scope_group

COMMANDS: list[click.Command] = [system_group, host_group, scope_group]
