"""Dates as people read them: dd/mm/yyyy (Vietnamese usage, also used in English for one style), local time."""

from __future__ import annotations

from datetime import date, datetime

from secops.timeutil import DEFAULT_TZ, local


def _as_datetime(value: date | datetime | str | None) -> date | datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def fmt_date(value: date | datetime | str | None, tz: str = DEFAULT_TZ) -> str:
    """``27/11/2026``; a datetime is shown on the local clock first. Empty for None."""
    value = _as_datetime(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, tz)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def fmt_datetime(value: datetime | str | None, tz: str = DEFAULT_TZ) -> str:
    """``27/11/2026 10:30`` on the local clock. Empty for None."""
    parsed = _as_datetime(value)
    if parsed is None:
        return ""
    if not isinstance(parsed, datetime):
        return fmt_date(parsed, tz)
    shown = local(parsed, tz)
    return f"{fmt_date(shown, tz)} {shown.hour:02d}:{shown.minute:02d}"


def long_date(value: date | datetime, lang: str, tz: str = DEFAULT_TZ) -> str:
    """The dateline of an official document: ``ngày 27 tháng 11 năm 2026`` / ``27 November 2026``."""
    if isinstance(value, datetime):
        value = local(value, tz)
    if lang == "vi":
        return f"ngày {value.day:02d} tháng {value.month:02d} năm {value.year}"
    return f"{value.day} {value.strftime('%B')} {value.year}"
