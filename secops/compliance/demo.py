"""The compliance part of ``secops demo``: check this machine over the local transport, show the score."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlmodel import col, select

from secops import audit
from secops.cli.app import App
from secops.compliance import runs
from secops.compliance.liveness import mark_interrupted
from secops.compliance.scoring import FORMULA
from secops.compliance.summary import score_systems
from secops.i18n import _
from secops.models import Host, System

DEMO_HOST = "may-nay-local"


def _local_host(app: App) -> Host:
    """The inventory's local-transport host, else one created on the first level-3 system (audited)."""
    with app.session() as session:
        host = session.exec(select(Host).where(Host.transport == "local").order_by(col(Host.name))).first()
        if host is not None:
            return host
        systems = list(session.exec(select(System).order_by(col(System.code))))
        target = next((s for s in systems if s.effective_level == 3), None) or (
            systems[0] if systems else None
        )
        host = Host(
            name=DEMO_HOST,
            address="127.0.0.1",
            system_id=target.id if target else None,
            os="linux",
            zone="quan-tri",
            transport="local",
        )
        session.add(host)
        session.flush()
        audit.record(session, app.actor, "host.create", "host", host.name, after=audit.snapshot(host))
        return host


def run_demo(app: App, console: Console) -> None:
    """Run every Linux check on this machine (local transport, no network) and print its system's score."""
    from secops.catalog import load_catalog

    with app.session() as session:
        mark_interrupted(session, app.actor)
    catalog = load_catalog(extra_dirs=tuple(app.settings.catalogs))
    host = _local_host(app)
    with app.session() as session:
        system = session.get(System, host.system_id) if host.system_id is not None else None
    console.print(_("Checking this machine ({host}) through the local transport…").format(host=host.name))
    run = runs.execute_run(
        app.engine(),
        app.actor,
        app.settings.home,
        catalog,
        [host],
        selection={"hosts": [host.name], "demo": True},
        transport="local",
    )
    assert run.id is not None
    with app.session() as session:
        results = runs.run_results(session, run.id)
        scores = score_systems(session, catalog, [system.code] if system else [])
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    console.print(
        _("Run {run}: {status} ({counts})").format(
            run=run.id,
            status=_(run.status),
            counts=", ".join(f"{_(k)} {v}" for k, v in sorted(counts.items())),
        )
    )
    failing = [r for r in results if r.status == "fail"]
    if failing:
        table = Table(title=_("Failing checks on {host}").format(host=host.name), header_style="bold")
        for header in (_("Check"), _("Severity"), _("Observed")):
            table.add_column(header, overflow="fold")
        for r in failing[:15]:
            table.add_row(r.check_id, r.severity, str(r.observed or r.detail)[:80])
        console.print(table)
    for score in scores:
        level = score.level if score.level is not None else "?"
        console.print(
            _("{system} (level {level}): achieved level {achieved}").format(
                system=score.system, level=level, achieved=score.achieved_level or _("no level yet")
            )
        )
        console.print("  " + score.formula(_(FORMULA)))
