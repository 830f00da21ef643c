"""Commands of the compliance feature (filled in by that feature)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
