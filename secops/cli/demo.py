"""`secops demo`: a fresh embedded database with a sample province, classified and shown."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
