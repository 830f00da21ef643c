"""``--every 6h`` and ``--cron "0 2 * * 1"`` into APScheduler triggers (cron in the display time zone)."""

from __future__ import annotations

import re
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from secops.errors import InputError
from secops.i18n import _
from secops.timeutil import DEFAULT_TZ

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_every(text: str) -> int:
    """Seconds in ``30s``, ``15m``, ``6h`` or ``7d`` (at least one second)."""
    match = _EVERY.match(text)
    if not match or int(match.group(1)) < 1:
        raise InputError(
            _("--every {value!r}: use a positive number and a unit s, m, h or d (e.g. 6h)").format(value=text)
        )
    return int(match.group(1)) * UNITS[match.group(2)]


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekdays(field: str) -> str:
    """Crontab weekdays (0 or 7 = Sunday) as day names: APScheduler 3 counts 0 as Monday, so
    ``from_crontab("0 2 * * 1")`` would run on Tuesdays."""
    if field == "*":
        return field
    days: set[int] = set()
    for token in field.lower().split(","):
        base, _sep, step_text = token.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        else:
            start, _dash, end = base.partition("-")
            first = _day(start)
            last = _day(end) if end else (6 if step_text else first)
            if end and last == 0 and first > 0:
                last = 7  # "5-0" or "5-7": Friday to Sunday
        if step < 1 or last < first:
            raise ValueError(f"bad weekday range {token!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _day(text: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text) % 7 if int(text) != 7 else 7
    if text[:3] in _DAYS:
        return _DAYS.index(text[:3])
    raise ValueError(f"unknown weekday {text!r}")


def cron_trigger(expr: str, tz: str = DEFAULT_TZ) -> CronTrigger:
    """A five-field crontab expression (minute hour day month weekday), in ``tz``."""
    try:
        fields = expr.split()
        if len(fields) != 5:
            raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
        minute, hour, day, month, weekday = fields
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(weekday), timezone=tz)
    except ValueError as exc:
        raise InputError(_("--cron {value!r}: {reason}").format(value=expr, reason=exc)) from exc


def build_trigger(cron: str | None, every_seconds: int | None, start: datetime, tz: str = DEFAULT_TZ) -> BaseTrigger:
    """The trigger of a schedule; interval triggers count from ``start`` so restarts keep the rhythm."""
    if cron:
        return cron_trigger(cron, tz)
    if every_seconds:
        return IntervalTrigger(seconds=every_seconds, start_date=start, timezone=tz)
    raise InputError(_("a schedule needs --cron or --every"))


def describe(cron: str | None, every_seconds: int | None) -> str:
    """``cron 0 2 * * 1`` or ``every 6h`` (the largest unit that divides the interval)."""
    if cron:
        return f"cron {cron}"
    seconds = every_seconds or 0
    for unit in ("d", "h", "m"):
        if seconds and seconds % UNITS[unit] == 0:
            return f"every {seconds // UNITS[unit]}{unit}"
    return f"every {seconds}s"


def next_fire(cron: str | None, every_seconds: int | None, start: datetime, now: datetime, tz: str) -> datetime | None:
    """When the schedule would fire next after ``now`` (for listings before the daemon has synced it)."""
    fire: datetime | None = build_trigger(cron, every_seconds, start, tz).get_next_fire_time(None, now)
    return fire
