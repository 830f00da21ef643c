"""Time rules of DESIGN §8: store UTC, show local (Asia/Ho_Chi_Minh by default), read offset-less input as local."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Normalise to aware UTC; a naive value means local time in ``tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


def parse_datetime(text: str, tz: str = DEFAULT_TZ) -> datetime:
    """Parse ISO 8601 (date or date-time); without an offset the time is local to ``tz``."""
    from secops.errors import InputError

    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not an ISO 8601 date/time: {text!r}") from exc
    return as_utc(value, tz)


def parse_date(text: str) -> date:
    """Parse YYYY-MM-DD."""
    from secops.errors import InputError

    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def local(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Show a stored time in the display zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz))
