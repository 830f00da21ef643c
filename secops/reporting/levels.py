"""The managers' report (``report levels``): a one-page summary, then one row per system.

Overdue inspections follow Decree 85 Art. 20.2.c as recorded in the regime file (level 3–4 yearly, level 5
every six months); a system's last inspection is its last completed check run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from statistics import fmean
from typing import Any

from sqlmodel import Session, col, select

from secops.i18n import _, pick
from secops.incidents.lifecycle import possibly_serious
from secops.levels.rules import load_regime
from secops.models import Agency, Host, System
from secops.models.compliance import Waiver
from secops.models.incident import Incident, IncidentSystem
from secops.reporting.charts import bar_chart, level_colour
from secops.reporting.render import Report, language
from secops.reporting.scores import bulk_scores, last_completed
from secops.timeutil import DEFAULT_TZ, utcnow

WAIVER_WINDOW = timedelta(days=30)
WORST = 5
COLUMNS = (
    "code",
    "name",
    "owner",
    "operator",
    "proposed_level",
    "approved_level",
    "decision_ref",
    "decision_date",
    "dossier",
    "score",
    "trend",
    "achieved_level",
    "last_run",
    "last_run_at",
    "inspection_due",
    "inspection_overdue",
    "open_incidents",
    "waivers_expiring",
)


def add_months(value: datetime, months: int) -> datetime:
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    day = min(
        value.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month - 1
        ],
    )
    return value.replace(year=year, month=month, day=day)


def _incidents(session: Session, level_of: dict[int, int | None]) -> tuple[list[dict[str, Any]], Counter[int]]:
    """Open incidents (not closed) with their systems, and the count per system."""
    links: dict[int, list[int]] = defaultdict(list)
    for iid, sid in session.exec(select(IncidentSystem.incident_id, IncidentSystem.system_id)).all():
        links[iid].append(sid)
    per_system: Counter[int] = Counter()
    items = []
    for inc in session.exec(select(Incident).where(Incident.status != "closed").order_by(col(Incident.code))):
        sids = links.get(inc.id or 0, [])
        per_system.update(sids)
        levels = [lvl for s in sids if (lvl := level_of.get(s)) is not None]
        items.append(
            {
                "code": inc.code,
                "title": inc.title,
                "status": inc.status,
                "category": inc.category,
                "detected_at": inc.detected_at,
                "system_ids": sids,
                "possibly_serious": possibly_serious(inc, max(levels) if levels else None),
            }
        )
    return items, per_system


def _waivers_expiring(session: Session, now: datetime, hosts: dict[int, list[str]]) -> Counter[int]:
    """Active waivers that lapse within 30 days, counted on each system they cover."""
    counts: Counter[int] = Counter()
    soon = session.exec(select(Waiver).where(Waiver.expires_at > now, Waiver.expires_at <= now + WAIVER_WINDOW)).all()
    for w in soon:
        for sid, names in hosts.items():
            if w.system_id == sid or (w.host_pattern and any(fnmatchcase(n, w.host_pattern) for n in names)):
                counts[sid] += 1
    return counts


def build_levels(
    session: Session, catalog: Any, lang: str, *, now: datetime | None = None, tz: str = DEFAULT_TZ
) -> Report:
    """Gather every figure of the managers' report in a fixed number of queries."""
    now = now or utcnow()
    agencies = {a.id: a.name for a in session.exec(select(Agency)).all()}
    systems = list(session.exec(select(System).order_by(col(System.code))).all())
    hosts: dict[int, list[str]] = defaultdict(list)
    for name, sid in session.exec(select(Host.name, Host.system_id)).all():
        if sid is not None:
            hosts[sid].append(name)
    compliance = bulk_scores(session, catalog, systems, now)
    level_of = {s.id or 0: s.effective_level for s in systems}
    incidents, incidents_per = _incidents(session, level_of)
    expiring = _waivers_expiring(session, now, hosts)
    code_of = {s.id: s.code for s in systems}
    regimes: dict[str, Any] = {}
    with language(lang):
        rows = []
        for s in systems:
            sid = s.id or 0
            name = s.regime or "decree85"
            regime = regimes[name] if name in regimes else regimes.setdefault(name, load_regime(name))
            level = s.effective_level
            required = [item.id for item, needed in regime.dossier_for(level) if needed]
            present = [i for i in required if i in (s.dossier or {})]
            comp = compliance[sid]
            last = last_completed(comp.runs)
            interval = regime.inspection_interval(level)
            due = add_months(last.at, interval) if interval and last and last.at else None
            overdue = bool(interval) and (due is None or due < now)
            rows.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "owner": agencies.get(s.owner_id, ""),
                    "operator": agencies.get(s.operator_id, "") if s.operator_id else "",
                    "proposed_level": s.proposed_level,
                    "approved_level": s.approved_level,
                    "level": level,
                    "decision_ref": s.decision_ref,
                    "decision_date": s.decision_date,
                    "dossier": f"{len(present)}/{len(required)}",
                    "dossier_complete": len(present) == len(required),
                    "score": comp.score.score,
                    "coverage": comp.score.coverage,
                    "trend": [t["score"] for t in comp.trend],
                    "trend_runs": comp.trend,
                    "achieved_level": comp.score.achieved_level if comp.runs else None,
                    "last_run": last.run_id if last else None,
                    "last_run_at": last.at if last else None,
                    "inspection_interval_months": interval,
                    "inspection_due": due,
                    "inspection_overdue": overdue,
                    "open_incidents": incidents_per.get(sid, 0),
                    "waivers_expiring": expiring.get(sid, 0),
                }
            )
        summary = _summary(rows, compliance, systems, catalog, incidents, code_of, lang)
        title = _("Security levels of information systems")
    view = {"chart": summary.pop("chart")}
    data = {"summary": summary, "systems": rows, "as_of": now}
    return Report("levels", title, data, rows=rows, columns=COLUMNS, view=view, lang=lang, tz=tz, generated_at=now)


def _summary(
    rows: list[dict[str, Any]],
    compliance: dict[int, Any],
    systems: list[System],
    catalog: Any,
    incidents: list[dict[str, Any]],
    code_of: dict[int | None, str],
    lang: str,
) -> dict[str, Any]:
    by_level = Counter(r["level"] for r in rows)
    levels: list[int | None] = [1, 2, 3, 4, 5, None]
    bars = [
        (_("Level {n}").format(n=lvl) if lvl else _("Not determined"), by_level.get(lvl, 0), level_colour(lvl))
        for lvl in levels
        if lvl is not None or by_level.get(None)
    ]
    averages = []
    for lvl in (1, 2, 3, 4, 5):
        scores = [r["score"] for r in rows if r["level"] == lvl and r["score"] is not None]
        if by_level.get(lvl):
            averages.append(
                {
                    "level": lvl,
                    "systems": by_level[lvl],
                    "scored": len(scores),
                    "average_score": round(fmean(scores), 4) if scores else None,
                }
            )
    gaps: Counter[str] = Counter()
    for s in systems:
        gaps.update(compliance[s.id or 0].score.not_met_ids)
    worst = [
        {"requirement": rid, "title": pick(catalog.requirements[rid].title.model_dump(), lang), "systems": n}
        for rid, n in sorted(gaps.items(), key=lambda kv: (-kv[1], kv[0]))[:WORST]
    ]
    lowest = sorted((r for r in rows if r["score"] is not None), key=lambda r: (r["score"], r["code"]))[:WORST]
    for inc in incidents:
        inc["systems"] = [code_of.get(i, "") for i in inc.pop("system_ids")]
    chart = bar_chart(bars, title=_("Systems by security level"))
    return {
        "chart": chart,
        "systems": len(rows),
        "approved": sum(1 for r in rows if r["approved_level"] is not None),
        "by_level": [{"level": lvl, "count": by_level.get(lvl, 0)} for lvl in levels if lvl or by_level.get(None)],
        "average_score_by_level": averages,
        "worst_gaps": worst,
        "lowest_scores": [{"code": r["code"], "name": r["name"], "score": r["score"]} for r in lowest],
        "open_incidents": incidents,
        "possibly_serious": sum(1 for i in incidents if i["possibly_serious"]),
        "overdue_inspections": [
            {
                "code": r["code"],
                "name": r["name"],
                "level": r["level"],
                "last_run_at": r["last_run_at"],
                "due": r["inspection_due"],
                "interval_months": r["inspection_interval_months"],
            }
            for r in rows
            if r["inspection_overdue"]
        ],
    }
