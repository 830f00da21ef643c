"""`secops schedule add|list|remove|pause|resume|run-now|history|defaults` and `secops scheduler run|status`.

Thin layer over ``secops.scheduler``. ``run-now`` runs the job here and now (exit 1 when it failed);
``scheduler run`` exits 2 when another scheduler already runs on the database.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.i18n import _
from secops.jsonutil import to_json
from secops.models.schedule import JOB_KINDS, JobExecution
from secops.scheduler import defaults, jobs, service
from secops.scheduler.triggers import parse_every
from secops.timeutil import local, utcnow


@click.group("schedule")
def schedule_group() -> None:
    """The timetable: scheduled checks, scans, deadline sweeps and reports."""


@schedule_group.command("add")
@click.argument("name")
@click.option("--job", type=click.Choice(JOB_KINDS), required=True, help="What to run.")
@click.option(
    "--target",
    help="check-run: system code(s), comma-separated, or 'all'; net-scan: scope; "
    "inspection-reminder: system code; report: html, pdf, json or csv (default html).",
)
@click.option("--cron", help='Crontab expression in local time, e.g. "0 2 * * 1".')
@click.option("--every", help="Interval: a number and s, m, h or d (e.g. 6h).")
@click.option("--profile", help="net-scan: nmap profile (default discovery).")
@format_option
@pass_app
def add_cmd(
    app: App,
    name: str,
    job: str,
    target: str | None,
    cron: str | None,
    every: str | None,
    profile: str | None,
    fmt: str,
) -> None:
    """Add a schedule NAME (the running scheduler picks it up within seconds)."""
    seconds = parse_every(every) if every else None
    options = {"profile": profile} if profile else {}
    with app.session() as session:
        s = service.add(session, app.actor, service.Spec(name, job, target, cron, seconds, options), app.settings.tz)
        row = {
            "name": s.name,
            "job": s.job,
            "target": s.target,
            "schedule": service.describe(s.cron, s.every_seconds),
        }
    emit([row], [(k, k) for k in row], fmt, data=row)


@schedule_group.command("list")
@format_option
@pass_app
def list_cmd(app: App, fmt: str) -> None:
    """Every schedule with its next run and last result."""
    with app.session() as session:
        rows = service.listing(session, app.settings.tz)
    table = [
        {**r, "next_run": _local(app, r["next_run"]), "last_started": _local(app, r["last_started"])} for r in rows
    ]
    columns = [
        ("name", _("Name")),
        ("job", _("Job")),
        ("target", _("Target")),
        ("schedule", _("When")),
        ("paused", _("Paused")),
        ("next_run", _("Next run")),
        ("last_status", _("Last status")),
        ("last_started", _("Last run")),
    ]
    emit(table, columns, fmt, data=rows, title=_("Schedules"))


def _local(app: App, value: Any) -> Any:
    return local(value, app.settings.tz) if value is not None else None


@schedule_group.command("remove")
@click.argument("name")
@pass_app
def remove_cmd(app: App, name: str) -> None:
    """Remove a schedule (its history stays)."""
    with app.session() as session:
        service.remove(session, app.actor, name)
    click.echo(_("Removed schedule {name}.").format(name=name))


@schedule_group.command("pause")
@click.argument("name")
@pass_app
def pause_cmd(app: App, name: str) -> None:
    """Stop running NAME until it is resumed (runs in between are not made up)."""
    with app.session() as session:
        service.set_paused(session, app.actor, name, True)
    click.echo(_("Paused schedule {name}.").format(name=name))


@schedule_group.command("resume")
@click.argument("name")
@pass_app
def resume_cmd(app: App, name: str) -> None:
    """Run NAME on its timetable again."""
    with app.session() as session:
        service.set_paused(session, app.actor, name, False)
    click.echo(_("Resumed schedule {name}.").format(name=name))


def execution_json(e: JobExecution, detail: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"started": e.started, "finished": e.finished, "status": e.status, "error": e.error}
    if detail:
        row.update({"id": e.id, "trigger": e.trigger, "scheduled_for": e.scheduled_for, "result": e.result})
    return row


@schedule_group.command("run-now")
@click.argument("name")
@format_option
@pass_app
def run_now_cmd(app: App, name: str, fmt: str) -> None:
    """Run NAME's job now in this process and record it (exit 1 when the job failed)."""
    with app.session() as session:
        schedule_id = service.get(session, name).id
    assert schedule_id is not None
    execution_id = jobs.execute(app, schedule_id, trigger="manual")
    with app.session() as session:
        execution = session.get(JobExecution, execution_id)
    assert execution is not None
    row = execution_json(execution, detail=True)
    emit(
        [{**row, "started": _local(app, row["started"]), "finished": _local(app, row["finished"])}],
        [(k, k) for k in ("id", "status", "started", "finished", "result", "error")],
        fmt,
        data=row,
    )
    if execution.status == "failed":
        raise click.exceptions.Exit(1)


@schedule_group.command("history")
@click.argument("name")
@click.option(
    "--limit",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="Show only the last N executions.",
)
@click.option("--detail", is_flag=True, help="Add id, trigger, scheduled time and what the run produced.")
@format_option
@pass_app
def history_cmd(app: App, name: str, limit: int, detail: bool, fmt: str) -> None:
    """Executions of NAME, oldest first: started, finished, status (success|failed|interrupted|missed)."""
    with app.session() as session:
        data = [execution_json(e, detail or fmt == "table") for e in service.history(session, name, limit)]
    table = [{**r, "started": _local(app, r["started"]), "finished": _local(app, r["finished"])} for r in data]
    columns = [
        ("started", _("Started")),
        ("finished", _("Finished")),
        ("status", _("Status")),
        ("result", _("Result")),
        ("error", _("Error")),
    ]
    emit(table, columns, fmt, data=data, title=_("History of {name}").format(name=name))


@schedule_group.command("defaults")
@format_option
@pass_app
def defaults_cmd(app: App, fmt: str) -> None:
    """Create the default timetable from the systems' levels (safe to run again)."""
    today = local(utcnow(), app.settings.tz).date()
    with app.session() as session:
        rows = defaults.apply(session, app.actor, app.settings.tz, today, app.settings.catalogs)
    columns = [
        ("name", _("Name")),
        ("job", _("Job")),
        ("target", _("Target")),
        ("schedule", _("When")),
        ("action", _("Action")),
        ("why", _("Why")),
    ]
    emit(rows, columns, fmt, title=_("Default timetable"))


@click.group("scheduler")
def scheduler_group() -> None:
    """The scheduler daemon."""


@scheduler_group.command("run")
@click.option(
    "--poll",
    type=click.FloatRange(0.2, 60),
    default=2.0,
    show_default=True,
    help="Seconds between checks for changed schedules.",
)
@click.option(
    "--misfire-grace",
    type=click.IntRange(1, 7 * 86400),
    default=300,
    show_default=True,
    help="A run late by more than this many seconds is recorded as missed instead of run.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(0, 86400),
    default=60.0,
    show_default=True,
    help="On SIGTERM, wait this long for running jobs, then mark them interrupted.",
)
@pass_app
def run_cmd(app: App, poll: float, misfire_grace: int, stop_timeout: float) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (exit 2 if one already runs)."""
    from secops.scheduler.daemon import Daemon

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    code = Daemon(app, poll=poll, misfire_grace=misfire_grace, stop_timeout=stop_timeout).run()
    if code:
        raise click.exceptions.Exit(code)


@scheduler_group.command("status")
@format_option
@pass_app
def status_cmd(app: App, fmt: str) -> None:
    """Which process holds the scheduler lock of this database, and its last heartbeat."""
    from secops.scheduler.lock import holder

    row = holder(app.engine())
    data = (
        None
        if row is None
        else {"host": row.host, "pid": row.pid, "acquired": row.acquired, "heartbeat": row.heartbeat}
    )
    if data is None:
        click.echo(to_json(None) if fmt == "json" else _("No scheduler is running on this database."))
        return
    emit(
        [data] if data else [],
        [("host", "host"), ("pid", "pid"), ("acquired", "acquired"), ("heartbeat", "heartbeat")],
        fmt,
        data=data,
    )


COMMANDS: list[click.Command] = [schedule_group, scheduler_group]
