"""Small shared rules of the compliance feature: expiry dates, severities, statuses."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from secops.errors import InputError
from secops.i18n import _
from secops.timeutil import DEFAULT_TZ, as_utc, parse_date, utcnow

SEVERITIES = ("low", "medium", "high", "critical")
# Statuses a waiver may cover; pass and not_applicable need none.
WAIVABLE = frozenset({"fail", "error", "skipped", "manual"})


def severity_rank(severity: str) -> int:
    """Order of severities (unknown ones rank lowest)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def parse_expiry(text: str, tz: str = DEFAULT_TZ, *, now: datetime | None = None) -> datetime:
    """An expiry as aware UTC. A bare date is valid through that whole local day (it lapses at the next
    local midnight), so ``--expires 2026-12-31`` still applies on the 31st. Past expiries are refused."""
    text = text.strip()
    if len(text) == 10:
        day = parse_date(text)
        at = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(tz))
        expires = as_utc(at)
    else:
        try:
            expires = as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
        except ValueError as exc:
            raise InputError(_("not a date (YYYY-MM-DD): {value!r}").format(value=text)) from exc
    if expires <= (now or utcnow()):
        raise InputError(_("the expiry date {value} is already past").format(value=text))
    return expires
