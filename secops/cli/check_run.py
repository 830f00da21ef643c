"""`secops check run|rescore|summary|diff`, `secops attest` and `secops waiver add|list|lint`.

Thin layer: parse, call ``secops.compliance``, format, exit code (1 = failing checks at or above
``--fail-on`` or waiver problems; 3 = some hosts could not be collected). Every command first marks runs
left ``running`` by a dead process as ``interrupted``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlmodel import select

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.compliance import drift, runs, summary
from secops.compliance.attestations import ATTEST_STATUSES, add_attestation
from secops.compliance.common import SEVERITIES, severity_rank
from secops.compliance.liveness import mark_interrupted
from secops.compliance.scoring import FORMULA
from secops.compliance.waivers import add_waiver, all_waivers, is_active, lint_waivers
from secops.i18n import _
from secops.models import System
from secops.store import store_for
from secops.timeutil import local, utcnow

RESULT_COLUMNS = [
    ("host", "Host"),
    ("check", "Check"),
    ("status", "Status"),
    ("severity", "Severity"),
    ("detail", "Detail"),
]


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sweep(app: App) -> None:
    """Mark runs whose process died as interrupted (called at the start of every check command)."""
    with app.session() as session:
        mark_interrupted(session, app.actor)


def load_catalog(app: App) -> Any:
    from secops.catalog import load_catalog as _load

    return _load(extra_dirs=tuple(app.settings.catalogs))


def result_json(r: Any) -> dict[str, Any]:
    return {
        "host": r.host_name,
        "check": r.check_id,
        "status": r.status,
        "severity": r.severity,
        "requirements": r.requirements,
        "expected": r.expected,
        "observed": r.observed,
        "detail": r.detail,
        "original_status": r.original_status,
        "waiver_id": r.waiver_id,
    }


def _print_run(app: App, run_id: int, fmt: str, fail_on: str | None) -> None:
    with app.session() as session:
        run = runs.get_run(session, run_id)
        rows = [result_json(r) for r in runs.run_results(session, run_id)]
    data = {"run_id": run.id, "status": run.status, "source_run": run.source_run_id, "results": rows}
    # A table is for people: passing checks are only counted (JSON and CSV carry every result).
    shown = rows
    if fmt == "table":
        shown = [{**r, "detail": _clip(r["detail"])} for r in rows if r["status"] != "pass"]
    emit(shown, RESULT_COLUMNS, fmt, data=data, title=_("Check run {run}").format(run=run.id))
    if fmt == "table":
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        click.echo(_("Run {run}: {status} ({counts})").format(run=run.id, status=run.status, counts=parts))
    if run.status in ("incomplete", "interrupted"):
        raise click.exceptions.Exit(3)
    if fail_on is not None and any(
        r["status"] == "fail" and severity_rank(r["severity"]) >= severity_rank(fail_on) for r in rows
    ):
        raise click.exceptions.Exit(1)


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Exit 1 when a check of this severity or higher fails (waived ones do not count).",
)


@click.command("run")
@click.option("--system", "systems", multiple=True, help="System code (repeatable).")
@click.option("--host", "hosts", multiple=True, help="Host name (repeatable).")
@click.option("--all", "all_hosts", is_flag=True, help="Every host of the inventory.")
@click.option("--transport", type=click.Choice(["local", "ssh"]), help="Override the hosts' transport.")
@click.option("--concurrency", type=click.IntRange(1, 500), default=10, show_default=True)
@fail_on_option
@format_option
@pass_app
def run_cmd(
    app: App,
    systems: tuple[str, ...],
    hosts: tuple[str, ...],
    all_hosts: bool,
    transport: str | None,
    concurrency: int,
    fail_on: str | None,
    fmt: str,
) -> None:
    """Collect facts from hosts and evaluate every check (exit 3 when a host could not be collected)."""
    sweep(app)
    catalog = load_catalog(app)
    with app.session() as session:
        chosen = runs.select_hosts(session, systems, hosts, all_hosts)
    selection = {"systems": list(systems), "hosts": list(hosts), "all": all_hosts, "transport": transport}
    run = runs.execute_run(
        app.engine(),
        app.actor,
        app.settings.home,
        catalog,
        chosen,
        selection=selection,
        transport=transport,
        concurrency=concurrency,
        progress=fmt == "table",
    )
    assert run.id is not None
    _print_run(app, run.id, fmt, fail_on)


@click.command("rescore")
@click.argument("run_id", type=int)
@fail_on_option
@format_option
@pass_app
def rescore_cmd(app: App, run_id: int, fail_on: str | None, fmt: str) -> None:
    """Re-evaluate a run's stored facts against the current catalog, waivers and levels (no host touched)."""
    sweep(app)
    catalog = load_catalog(app)
    run = runs.rescore(app.engine(), app.actor, catalog, run_id)
    assert run.id is not None
    _print_run(app, run.id, fmt, fail_on)


@click.command("summary")
@click.option("--system", "systems", multiple=True, help="System code (repeatable; default every system).")
@click.option("--run", "run_id", type=int, help="Score one run instead of each host's latest.")
@format_option
@pass_app
def summary_cmd(app: App, systems: tuple[str, ...], run_id: int | None, fmt: str) -> None:
    """Score each system against its level: score, coverage, achieved level and the gap to the next level."""
    sweep(app)
    catalog = load_catalog(app)
    with app.session() as session:
        scores = summary.score_systems(session, catalog, systems, run_id=run_id)
    data = [s.to_json() for s in scores]
    rows = []
    for item in data:
        gap = item["gap_to_next_level"]
        rows.append(
            {
                **item,
                "score": _pct(item["score"]),
                "coverage": _pct(item["coverage"]),
                "gap": f"L{gap['level']}: {len(gap['requirements'])}" if gap else "-",
            }
        )
    columns = [
        ("system", _("System")),
        ("level", _("Level")),
        ("score", _("Score")),
        ("coverage", _("Coverage")),
        ("achieved_level", _("Achieved")),
        ("met", _("Met")),
        ("not_met", _("Not met")),
        ("not_evaluated", _("Not evaluated")),
        ("gap", _("Gap to next level")),
    ]
    emit(rows, columns, fmt, data=data, title=_("Compliance by system"))
    if fmt == "table":
        for s in scores:
            click.echo(f"{s.system}: {s.formula(_(FORMULA))}")
            if s.gap:
                items = ", ".join(f"{r['id']} ({r['status']})" for r in s.gap["requirements"][:10])
                more = len(s.gap["requirements"]) - 10
                click.echo(
                    "  "
                    + _("in the way of level {level}: {items}").format(level=s.gap["level"], items=items)
                    + (f" … +{more}" if more > 0 else "")
                )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@click.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@format_option
@pass_app
def diff_cmd(app: App, run_a: int, run_b: int, fmt: str) -> None:
    """What changed between two runs: new failures, fixed, regressed, new errors, waivers expired."""
    sweep(app)
    with app.session() as session:
        data = drift.diff_runs(session, run_a, run_b)
    rows = [{"change": name, **item} for name in drift.CATEGORIES for item in data[name]]
    columns = [
        ("change", _("Change")),
        ("host", "Host"),
        ("check", "Check"),
        ("severity", "Severity"),
        ("before", _("Before")),
        ("after", _("After")),
    ]
    emit(rows, columns, fmt, data=data, title=_("Runs {a} → {b}").format(a=run_a, b=run_b))


@click.command("runs")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@format_option
@pass_app
def runs_cmd(app: App, limit: int, fmt: str) -> None:
    """Recent check runs, newest first (ids for rescore and diff)."""
    sweep(app)
    with app.session() as session:
        rows = [
            {
                "run_id": r.id,
                "kind": r.kind,
                "status": r.status,
                "started_at": local(r.started_at, app.settings.tz),
                "actor": r.actor,
                "hosts": f"{r.hosts_done}/{r.hosts_total}",
                "source_run": r.source_run_id,
            }
            for r in runs.recent_runs(session, limit)
        ]
    emit(
        rows,
        [(k, k) for k in ("run_id", "kind", "status", "started_at", "actor", "hosts", "source_run")],
        fmt,
    )


@click.command("attest")
@click.argument("system")
@click.argument("requirement")
@click.option("--status", type=click.Choice(ATTEST_STATUSES), required=True)
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--expires", required=True, help="Last day it is valid (YYYY-MM-DD, local time).")
@format_option
@pass_app
def attest_cmd(
    app: App, system: str, requirement: str, status: str, evidence: Path, expires: str, fmt: str
) -> None:
    """Record evidence that SYSTEM meets (or does not meet) REQUIREMENT; the file is hashed and stored."""
    sweep(app)
    catalog = load_catalog(app)
    with app.session() as session:
        a = add_attestation(
            session,
            app.actor,
            store_for(app.settings.home),
            system_code=system,
            requirement_id=requirement,
            status=status,
            evidence=evidence,
            expires=expires,
            known_requirements=catalog.requirements,
            tz=app.settings.tz,
        )
    row = {
        "id": a.id,
        "system": system,
        "requirement": requirement,
        "status": a.status,
        "evidence_sha256": a.evidence_sha256,
        "expires_at": local(a.expires_at, app.settings.tz),
    }
    emit([row], [(k, k) for k in row], fmt, data=row)


@click.group("waiver")
def waiver_group() -> None:
    """Scoped, expiring exceptions for checks (shown as waived, never hidden)."""


@waiver_group.command("add")
@click.option("--check", "check_id", required=True)
@click.option("--host", "host_pattern", help="Host name or glob pattern (e.g. 'web-*').")
@click.option("--system", "system_code", help="Every host of this system.")
@click.option("--reason", required=True)
@click.option("--approver", required=True)
@click.option("--expires", required=True, help="Last day it applies (YYYY-MM-DD, local time).")
@format_option
@pass_app
def waiver_add(
    app: App,
    check_id: str,
    host_pattern: str | None,
    system_code: str | None,
    reason: str,
    approver: str,
    expires: str,
    fmt: str,
) -> None:
    """Waive one check on matching hosts until a date."""
    sweep(app)
    catalog = load_catalog(app)
    with app.session() as session:
        w = add_waiver(
            session,
            app.actor,
            check_id=check_id,
            host_pattern=host_pattern,
            system_code=system_code,
            reason=reason,
            approver=approver,
            expires=expires,
            known_checks=catalog.checks,
            tz=app.settings.tz,
        )
    row = {
        "id": w.id,
        "check": w.check_id,
        "host": w.host_pattern,
        "system": system_code,
        "expires_at": local(w.expires_at, app.settings.tz),
    }
    emit([row], [(k, k) for k in row], fmt, data=row)


@waiver_group.command("list")
@format_option
@pass_app
def waiver_list(app: App, fmt: str) -> None:
    """Every waiver with its scope, approver, expiry and whether it is still in force."""
    sweep(app)
    now = utcnow()
    with app.session() as session:
        codes = {s.id: s.code for s in session.exec(select(System))}
        rows = [
            {
                "id": w.id,
                "check": w.check_id,
                "host": w.host_pattern,
                "system": codes.get(w.system_id),
                "reason": w.reason,
                "approver": w.approver,
                "expires_at": local(w.expires_at, app.settings.tz),
                "state": "active" if is_active(w, now) else "expired",
                "created_by": w.actor,
            }
            for w in all_waivers(session)
        ]
    columns = [
        ("id", "ID"),
        ("check", "Check"),
        ("host", "Host"),
        ("system", _("System")),
        ("reason", _("Reason")),
        ("approver", _("Approver")),
        ("expires_at", _("Expires")),
        ("state", _("State")),
    ]
    emit(rows, columns, fmt)


@waiver_group.command("lint")
@format_option
@pass_app
def waiver_lint(app: App, fmt: str) -> None:
    """Exit 1 when a waiver has expired, lacks a reason or approver, or names an unknown check."""
    sweep(app)
    catalog = load_catalog(app)
    with app.session() as session:
        problems = lint_waivers(session, catalog.checks)
    rows = [
        {"waiver": p.waiver_id, "check": p.check, "problem": p.problem, "message": p.message}
        for p in problems
    ]
    if fmt == "table" and not rows:
        click.echo(_("No waiver problems."))
        return
    columns = [("waiver", "ID"), ("check", "Check"), ("problem", _("Problem")), ("message", _("Message"))]
    emit(rows, columns, fmt)
    if rows:
        raise click.exceptions.Exit(1)


CHECK_SUBCOMMANDS = [run_cmd, rescore_cmd, summary_cmd, diff_cmd, runs_cmd]


def _attach() -> list[click.Command]:
    """Attach our subcommands to the ``check`` group of ``secops.cli.check`` (a stand-in until it exists)."""
    from secops.cli import check as check_module

    group = next((c for c in check_module.COMMANDS if isinstance(c, click.Group) and c.name == "check"), None)
    own: list[click.Command] = []
    if not isinstance(group, click.Group):
        group = click.Group("check", help="Compliance checks.")
        own.append(group)
    for command in CHECK_SUBCOMMANDS:
        group.add_command(command)
    return own


COMMANDS: list[click.Command] = [*_attach(), attest_cmd, waiver_group]
