"""Helpers shared by the `secops incident` command modules: reading and showing times."""

from __future__ import annotations

from datetime import datetime

from secops.cli.app import App
from secops.timeutil import local, parse_datetime


def when(app: App, text: str | None) -> datetime | None:
    """ISO 8601 from the command line; without an offset it is local time (Asia/Ho_Chi_Minh by default)."""
    return parse_datetime(text, app.settings.tz) if text else None


def shown(app: App, iso: str | datetime | None) -> str:
    """A stored UTC time as local wall-clock text."""
    if iso is None:
        return ""
    value = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
    return f"{local(value, app.settings.tz):%Y-%m-%d %H:%M}"
