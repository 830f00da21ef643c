"""Output formats behind one interface: ``emit(rows, columns, fmt)`` prints a table, JSON or CSV.

JSON goes to stdout with stable English keys and nothing else; tables are for people (rich).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from secops.i18n import _
from secops.jsonutil import to_json

FORMATS = ("table", "json", "csv")
format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)


def _cell(value: Any, human: bool = True) -> str:
    """Text of one cell; ``human`` translates yes/no (tables), CSV keeps them stable for scripts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("yes" if value else "no") if not human else (_("yes") if value else _("no"))
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v, human) for v in value)
    if isinstance(value, dict):
        return " ".join(to_json(value).split())
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def console() -> Console:
    """A console for tables: the terminal's width, or 160 columns into a file or pipe (rich would fold
    wide tables to 80 there, which makes them unreadable)."""
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 160)
    return Console(soft_wrap=False, width=width)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    fmt: str,
    *,
    title: str | None = None,
    data: Any = None,
) -> None:
    """Print ``rows``. ``columns`` are (key, header) pairs for table/CSV; JSON prints ``data`` or the rows."""
    if fmt == "json":
        click.echo(to_json(data if data is not None else list(rows)))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([key for key, _header in columns])
        for row in rows:
            writer.writerow([_cell(row.get(key), human=False) for key, _header in columns])
        sys.stdout.write(buf.getvalue())
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for _key, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(key))) for key, _header in columns))  # no rich markup in data
    console().print(table)
