"""`secops inventory`: import (YAML, CSV, XLSX; all-or-nothing) and export (YAML, JSON, CSV)."""

from __future__ import annotations

from pathlib import Path

import click

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.errors import InputError
from secops.i18n import _
from secops.inventory.export import dump_json, dump_yaml, export_document, write_csv
from secops.inventory.importer import import_files
from secops.inventory.schema import KINDS


@click.group("inventory")
def inventory_group() -> None:
    """Load and export the inventory: agencies, information systems, hosts and network scopes."""


@inventory_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind", type=click.Choice(KINDS), help="What the CSV files hold (default: from the file name)."
)
@click.option("--dry-run", is_flag=True, help="Validate and count changes, write nothing.")
@format_option
@pass_app
def import_cmd(app: App, files: tuple[Path, ...], kind: str | None, dry_run: bool, fmt: str) -> None:
    """Import FILE… (YAML/JSON, CSV, XLSX or directories of them) as one unit; upsert by code/name."""
    with app.session() as session:
        summary = import_files(session, list(files), app.actor, dry_run, kind=kind)
    rows = summary.rows()
    if fmt == "table":
        rows = [{**row, "kind": _(row["kind"])} for row in rows]
    columns = [
        ("kind", _("Kind")),
        ("created", _("Created")),
        ("updated", _("Updated")),
        ("unchanged", _("Unchanged")),
    ]
    title = _("Dry run: nothing was written") if dry_run else _("Inventory imported")
    emit(rows, columns, fmt, title=title, data=summary.to_dict())


@inventory_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "csv"]),
    default="yaml",
    show_default=True,
    help="Output format (the import format; CSV writes one file per kind).",
)
@click.option("--out", type=click.Path(path_type=Path), help="File to write (a directory for CSV).")
@pass_app
def export_cmd(app: App, fmt: str, out: Path | None) -> None:
    """Export the whole inventory in the import format (it imports back unchanged)."""
    with app.session() as session:
        doc = export_document(session)
    if fmt == "csv":
        if out is None:
            raise InputError(_("--format csv writes one file per kind: give a directory with --out"))
        for path in write_csv(doc, out):
            click.echo(_("written: {path}").format(path=path), err=True)
        return
    text = dump_yaml(doc) if fmt == "yaml" else dump_json(doc)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(_("written: {path}").format(path=out), err=True)


COMMANDS: list[click.Command] = [inventory_group]
