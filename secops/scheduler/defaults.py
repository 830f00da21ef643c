"""The default timetable, derived from the inventory and the systems' levels (``secops schedule defaults``).

* automated checks per system, more often the higher its level (``CHECK_FREQUENCY``);
* weekly host discovery of every scope (Sunday 03:00);
* an hourly sweep of incident deadlines (due within 24 h or overdue are notified);
* a reminder one month before each system's inspection falls due (Decree 85 Art. 20.2.c: levels 3–4 every
  12 months, level 5 every 6 months — the intervals come from the level rules, not from this file).

Idempotent: entries created here carry ``origin = "defaults"`` and are updated when the inventory changes;
entries a user made (or changed by name) are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from secops.levels.rules import load_regime
from secops.models import Host, Scope, System
from secops.models.schedule import Schedule
from secops.scheduler import service
from secops.scheduler.service import Spec

# level -> (cron, every_seconds). Level 1 monthly, 2 every two weeks, 3 weekly, 4 every three days, 5 daily.
CHECK_FREQUENCY: dict[int, tuple[str | None, int | None]] = {
    1: ("0 1 1 * *", None),
    2: (None, 14 * 86400),
    3: ("0 1 * * 1", None),
    4: (None, 3 * 86400),
    5: ("0 1 * * *", None),
}
DISCOVERY_CRON = "0 3 * * 0"
SWEEP_EVERY = 3600


def reminder_cron(anchor: date, months: int) -> str:
    """08:00 on the 1st of the month before each due month (due every ``months`` from ``anchor``)."""
    due_months = sorted({(anchor.month - 1 + k * months) % 12 + 1 for k in range(max(1, 12 // months))})
    remind = sorted({(m - 2) % 12 + 1 for m in due_months})
    return f"0 8 1 {','.join(str(m) for m in remind)} *"


@dataclass(frozen=True)
class Planned:
    spec: Spec
    why: str


def plan(session: Session, today: date, catalogs: Sequence[Path] = ()) -> tuple[list[Planned], list[str]]:
    """What the default timetable holds for this inventory, and the systems left out (with the reason)."""
    planned: list[Planned] = []
    skipped: list[str] = []
    with_hosts = set(session.exec(select(Host.system_id).where(col(Host.system_id).is_not(None))))
    for system in session.exec(select(System).order_by(col(System.code))):
        level = system.effective_level
        if level is None:
            skipped.append(f"{system.code}: no level yet")
            continue
        if system.id in with_hosts:
            cron, every = CHECK_FREQUENCY[level]
            planned.append(
                Planned(Spec(f"check-{system.code}", "check-run", system.code, cron, every), f"level {level}")
            )
        else:
            skipped.append(f"{system.code}: no hosts to check")
        months = load_regime(system.regime, catalogs).inspection_interval(level)
        if months:
            anchor = system.decision_date or today
            planned.append(
                Planned(
                    Spec(
                        f"inspection-{system.code}",
                        "inspection-reminder",
                        system.code,
                        reminder_cron(anchor, months),
                    ),
                    f"level {level}: inspection every {months} months (Art. 20.2.c)",
                )
            )
    for scope in session.exec(select(Scope).order_by(col(Scope.name))):
        planned.append(
            Planned(
                Spec(
                    f"discover-{scope.name}",
                    "net-scan",
                    scope.name,
                    DISCOVERY_CRON,
                    options={"profile": "discovery"},
                ),
                "weekly discovery",
            )
        )
    planned.append(
        Planned(
            Spec("deadline-sweep", "deadline-sweep", None, None, SWEEP_EVERY),
            "incident deadlines (24 h window)",
        )
    )
    return planned, skipped


def apply(session: Session, actor: str, tz: str, today: date, catalogs: Sequence[Path] = ()) -> list[dict[str, str]]:
    """Create or update the default entries; rows ``{name, job, target, schedule, action, why}``."""
    planned, skipped = plan(session, today, catalogs)
    rows = []
    for item in planned:
        spec = item.spec
        existing = session.exec(select(Schedule).where(Schedule.name == spec.name)).first()
        action = "created"
        if existing is None:
            service.add(session, actor, spec, tz, origin="defaults")
        elif existing.origin != "defaults":
            action = "kept (user's)"
        elif (existing.job, existing.target, existing.cron, existing.every_seconds, existing.options) == (
            spec.job,
            spec.target,
            spec.cron,
            spec.every_seconds,
            spec.options or {},
        ):
            action = "unchanged"
        else:
            service.change(
                session,
                actor,
                existing,
                "schedule.defaults",
                job=spec.job,
                target=spec.target,
                cron=spec.cron,
                every_seconds=spec.every_seconds,
                options=spec.options or {},
            )
            action = "updated"
        rows.append(
            {
                "name": spec.name,
                "job": spec.job,
                "target": spec.target or "",
                "schedule": service.describe(spec.cron, spec.every_seconds),
                "action": action,
                "why": item.why,
            }
        )
    rows.extend(
        {
            "name": "",
            "job": "",
            "target": s.split(":")[0],
            "schedule": "",
            "action": "skipped",
            "why": s.split(": ", 1)[1],
        }
        for s in skipped
    )
    return rows
