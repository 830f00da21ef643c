"""Time to acknowledge, contain and close, computed from the timeline (status events), never from edited
fields; counts per Form 05 category. Periods: ``2026``, ``2026H1``, ``2026Q3``, ``2026-05``."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from secops.errors import InputError
from secops.incidents import timeline
from secops.incidents.vocab import CATEGORIES
from secops.models.incident import Incident
from secops.timeutil import DEFAULT_TZ, as_utc

_PERIOD = re.compile(r"^(\d{4})(?:(H)([12])|(Q)([1-4])|-(\d{2}))?$")
CONTAINED = ("eradication", "recovery", "closed")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


def parse_period(text: str, tz: str = DEFAULT_TZ) -> Period:
    """A calendar period on the local clock: a year, a half, a quarter or a month."""
    m = _PERIOD.match(text.strip().upper())
    if not m:
        raise InputError(f"not a period: {text!r} (use 2026, 2026H1, 2026Q1 or 2026-05)")
    year = int(m.group(1))
    if m.group(2):
        first, months = (int(m.group(3)) - 1) * 6 + 1, 6
    elif m.group(4):
        first, months = (int(m.group(5)) - 1) * 3 + 1, 3
    elif m.group(6):
        first, months = int(m.group(6)), 1
        if not 1 <= first <= 12:
            raise InputError(f"not a month: {text!r}")
    else:
        first, months = 1, 12
    end_month = first + months
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return Period(text.strip().upper(), as_utc(datetime(year, first, 1), tz), as_utc(end, tz))


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def milestones(session: Session, incident: Incident) -> dict[str, float | None]:
    """Hours from detection to acknowledge (left ``new``), contain (left containment) and first close."""
    ack = contain = close = None
    for ev in timeline.events(session, incident):
        if ev.kind not in ("status", "reopened"):
            continue
        to, when = ev.data.get("to"), datetime.fromisoformat(ev.data["effective_at"])
        if ack is None and ev.data.get("from") == "new":
            ack = when
        if contain is None and to in CONTAINED and ev.data.get("from") in ("containment", "eradication"):
            contain = when
        if close is None and to == "closed":
            close = when
    start = incident.detected_at
    return {
        "acknowledge": _hours(start, ack),
        "contain": _hours(start, contain),
        "close": _hours(start, close),
    }


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean_hours": None, "median_hours": None, "max_hours": None}
    return {
        "count": len(values),
        "mean_hours": round(statistics.fmean(values), 2),
        "median_hours": round(statistics.median(values), 2),
        "max_hours": round(max(values), 2),
    }


def stats(session: Session, period: Period) -> dict[str, Any]:
    """Incidents detected in ``period``: counts per category and the three time metrics."""
    stmt = select(Incident).where(
        col(Incident.detected_at) >= period.start, col(Incident.detected_at) < period.end
    )
    incidents = list(session.exec(stmt.order_by(col(Incident.code))))
    per: dict[str, list[float]] = {"acknowledge": [], "contain": [], "close": []}
    by_category = dict.fromkeys(CATEGORIES, 0)
    rows = []
    for incident in incidents:
        by_category[incident.category] += 1
        ms = milestones(session, incident)
        for key, value in ms.items():
            if value is not None:
                per[key].append(value)
        rows.append(
            {"code": incident.code, "category": incident.category, **{f"{k}_hours": v for k, v in ms.items()}}
        )
    return {
        "period": period.label,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "incidents": len(incidents),
        "by_category": by_category,
        "time_to_acknowledge": _summary(per["acknowledge"]),
        "time_to_contain": _summary(per["contain"]),
        "time_to_close": _summary(per["close"]),
        "per_incident": rows,
    }
