"""The reports part of ``secops demo``: every report, in Vietnamese and English, into ``out_dir/reports/``.

Forms are written as drafts when the demo's config has no ``[organization]`` section: the reporting
organization is never invented, and the draft banner lists what must still be filled in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from sqlmodel import Session, col, select

from secops.catalog.loader import load_catalog
from secops.errors import SecopsError
from secops.i18n import _
from secops.models.compliance import CheckRun
from secops.models.incident import Incident
from secops.models.netscan import NetworkScan
from secops.reporting import render
from secops.reporting.forms import build_form
from secops.reporting.levels import build_levels
from secops.reporting.network import build_network
from secops.reporting.oscal import assessment_results
from secops.reporting.system import build_system
from secops.timeutil import local, utcnow

if TYPE_CHECKING:
    from secops.cli.app import App

DEMO_SYSTEM = "dvc-portal"


def _jobs(session: Session, app: App, catalog: Any) -> list[tuple[str, str, Callable[[str], render.Report]]]:
    """(file stem, format, builder by language) for every report the demo database can feed."""
    tz = app.settings.tz
    org = app.settings.section("organization")
    jobs: list[tuple[str, str, Callable[[str], render.Report]]] = [
        ("levels", "html", lambda lang: build_levels(session, catalog, lang, tz=tz)),
        ("levels", "pdf", lambda lang: build_levels(session, catalog, lang, tz=tz)),
        (f"system-{DEMO_SYSTEM}", "html", lambda lang: build_system(session, catalog, DEMO_SYSTEM, lang, tz=tz)),
    ]
    if session.exec(select(NetworkScan.id)).first() is not None:
        jobs.append(("network", "html", lambda lang: build_network(session, catalog, None, lang, tz=tz)))
    incident = session.exec(select(Incident).order_by(col(Incident.code))).first()
    if incident is not None:
        code = incident.code

        def form_builder(form: str) -> Callable[[str], render.Report]:
            return lambda lang: build_form(session, form, code, org, lang, draft=True, tz=tz)

        for form in ("form03", "form04"):
            jobs.append((f"{form}-{code}", "html", form_builder(form)))
        year = local(utcnow(), tz)
        period = f"{year.year}H{1 if year.month <= 6 else 2}"
        jobs.append(
            (
                f"form05-{period}",
                "html",
                lambda lang: build_form(session, "form05", period, org, lang, draft=True, tz=tz),
            )
        )
    return jobs


def run_demo(app: App, console: Console, out_dir: Path) -> None:
    """Write the reports and print their paths."""
    target = out_dir / "reports"
    catalog = load_catalog(app.settings.catalogs)
    console.rule(_("Reports for managers, auditors and the response team"))
    written: list[Path] = []
    with app.session() as session:
        for stem, fmt, build in _jobs(session, app, catalog):
            for lang in ("vi", "en"):
                try:
                    written.append(render.write(build(lang), fmt, target / f"{stem}.{lang}.{fmt}"))
                except (SecopsError, ImportError) as exc:
                    console.print(_("note: {note}").format(note=f"{stem} ({lang}, {fmt}): {exc}"))
        run = session.exec(
            select(CheckRun).where(CheckRun.status != "running").order_by(col(CheckRun.id).desc())
        ).first()
        if run is not None and run.id is not None:
            path = target / f"oscal-run-{run.id}.json"
            path.write_text(
                json.dumps(assessment_results(session, catalog, run.id), ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
            )
            written.append(path)
    for path in written:
        console.print(str(path), highlight=False, soft_wrap=True)
