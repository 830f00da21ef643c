"""`secops incident task …` and `secops incident evidence …` (registered on the incident group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.i18n import _
from secops.incidents import evidence, playbooks, tasks, timeline
from secops.incidents.views import custody_item
from secops.incidents.vocab import PHASE_LABELS, ROLES, TASK_STATUS_LABELS, label
from secops.store import store_for
from secops.timeutil import local


def _shown(app: App, value: object) -> str:
    from datetime import datetime

    return f"{local(value, app.settings.tz):%Y-%m-%d %H:%M}" if isinstance(value, datetime) else ""


@click.group("task")
def task() -> None:
    """Tasks created from the incident's playbook."""


@task.command("list")
@click.argument("code")
@format_option
@pass_app
def task_list(app: App, code: str, fmt: str) -> None:
    """List the tasks of an incident."""
    with app.session() as s:
        inc = timeline.get_incident(s, code)
        items = [(t, playbooks.task_due(inc, t)) for t in tasks.list_tasks(s, inc)]
    data: list[dict[str, Any]] = [
        {
            "id": t.step_id,
            "number": t.number,
            "phase": t.phase,
            "title": t.title,
            "owner": t.owner_role,
            "status": t.status,
            "due": due.isoformat() if due else None,
            "mandatory": t.mandatory,
            "checklist": t.checklist,
            "evidence_required": t.evidence_required,
            "done_by": t.done_by,
            "reason": t.reason,
        }
        for t, due in items
    ]
    rows = [
        {
            **d,
            "title": d["title"].get(app.lang),
            "owner": label(ROLES, d["owner"], app.lang),
            "phase": label(PHASE_LABELS, d["phase"], app.lang),
            "status": label(TASK_STATUS_LABELS, d["status"], app.lang),
            "due": _shown(app, due),
            "mandatory": d["mandatory"],
        }
        for d, (_t, due) in zip(data, items, strict=True)
    ]
    emit(
        rows,
        [
            ("number", "#"),
            ("id", _("Task")),
            ("phase", _("Phase")),
            ("title", _("Title")),
            ("owner", _("Owner role")),
            ("status", _("Status")),
            ("due", _("Due")),
            ("mandatory", _("Mandatory")),
        ],
        fmt,
        data=data,
    )


@task.command("done")
@click.argument("code")
@click.argument("task_ref")
@click.option(
    "--evidence", "evidence_refs", multiple=True, help="Evidence item proving the step (E1 …; repeat)."
)
@click.option("--note", help="What was done.")
@pass_app
def task_done(app: App, code: str, task_ref: str, evidence_refs: tuple[str, ...], note: str | None) -> None:
    """Mark a task done."""
    with app.session() as s:
        t = tasks.task_done(s, app.actor, code, task_ref, evidence=list(evidence_refs), note=note)
    click.echo(_("{code}: task {task} done").format(code=code, task=t.step_id))


@task.command("skip")
@click.argument("code")
@click.argument("task_ref")
@click.option("--reason", required=True, help="Why the step is not needed.")
@pass_app
def task_skip(app: App, code: str, task_ref: str, reason: str) -> None:
    """Skip a task, with the reason."""
    with app.session() as s:
        t = tasks.task_skip(s, app.actor, code, task_ref, reason)
    click.echo(_("{code}: task {task} skipped").format(code=code, task=t.step_id))


@click.group("evidence")
def evidence_group() -> None:
    """Evidence files (content-addressed, SHA-256, read-only) and their chain of custody."""


@evidence_group.command("add")
@click.argument("code")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--description", required=True)
@click.option("--name", help="File name to record (default: the file's own name).")
@click.option("--collected-by", help="Who collected it (default: the actor).")
@click.option("--purpose", help="Why it was collected.")
@click.option("--max-size", help="Refuse files larger than this (e.g. 2G; default from config or 20G).")
@pass_app
def evidence_add(
    app: App,
    code: str,
    file: Path,
    description: str,
    name: str | None,
    collected_by: str | None,
    purpose: str | None,
    max_size: str | None,
) -> None:
    """Stream a file into the evidence store and record its collection."""
    configured = app.settings.section("incidents").get("evidence_max_size")
    limit = evidence.parse_size(max_size or str(configured or "20G"))
    store = store_for(app.settings.home)
    with app.session() as s:
        ev = evidence.add_evidence(
            s,
            store,
            app.actor,
            code,
            file,
            description,
            name=name,
            max_bytes=limit,
            collected_by=collected_by,
            purpose=purpose,
        )
    click.echo(_("{code}: evidence E{n} stored, SHA-256 {sha}").format(code=code, n=ev.number, sha=ev.sha256))


@evidence_group.command("list")
@click.argument("code")
@format_option
@pass_app
def evidence_list(app: App, code: str, fmt: str) -> None:
    """List the evidence of an incident."""
    with app.session() as s:
        inc = timeline.get_incident(s, code)
        items = evidence.list_evidence(s, inc)
    data: list[dict[str, Any]] = [
        {
            "id": f"E{e.number}",
            "name": e.name,
            "sha256": e.sha256,
            "size": e.size,
            "description": e.description,
            "collected_by": e.collected_by,
            "collected_at": e.collected_at.isoformat(),
        }
        for e in items
    ]
    rows = [{**d, "collected_at": _shown(app, e.collected_at)} for d, e in zip(data, items, strict=True)]
    emit(
        rows,
        [
            ("id", "ID"),
            ("name", _("Name")),
            ("size", _("Bytes")),
            ("sha256", "SHA-256"),
            ("collected_by", _("Collected by")),
            ("collected_at", _("Collected")),
        ],
        fmt,
        data=data,
    )


@evidence_group.command("custody")
@click.argument("code")
@click.argument("evidence_ref")
@click.option(
    "--action", type=click.Choice(["transferred", "accessed"]), help="Record a hand-over or an access."
)
@click.option("--person", help="Who (default: the actor).")
@click.option("--purpose", help="Why.")
@click.option("--to", "to_person", help="Receiver of a transfer.")
@click.option("--location", help="Where the evidence is kept now.")
@format_option
@pass_app
def evidence_custody(
    app: App,
    code: str,
    evidence_ref: str,
    action: str | None,
    person: str | None,
    purpose: str | None,
    to_person: str | None,
    location: str | None,
    fmt: str,
) -> None:
    """Show the chain of custody; with --action, record a new custody event first."""
    with app.session() as s:
        if action:
            evidence.add_custody(
                s,
                app.actor,
                code,
                evidence_ref,
                action,
                person or app.actor,
                purpose or "",
                to_person=to_person,
                location=location,
            )
        inc = timeline.get_incident(s, code)
        events = evidence.custody_of(s, evidence.get_evidence(s, inc, evidence_ref))
    data = [custody_item(c) for c in events]
    rows = [{**d, "at": _shown(app, c.at)} for d, c in zip(data, events, strict=True)]
    emit(
        rows,
        [
            ("at", _("Time")),
            ("action", _("Action")),
            ("person", _("Person")),
            ("purpose", _("Purpose")),
            ("to", _("To")),
            ("sha256_ok", _("Hash OK")),
        ],
        fmt,
        data=data,
        title=_("Chain of custody"),
    )


@evidence_group.command("export")
@click.argument("code")
@click.argument("evidence_ref")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--purpose", required=True)
@click.option("--to", "to_person", help="Who receives the copy.")
@pass_app
def evidence_export(
    app: App, code: str, evidence_ref: str, directory: Path, purpose: str, to_person: str | None
) -> None:
    """Copy an evidence file out (re-hashed on the way; recorded as a custody event)."""
    with app.session() as s:
        target = evidence.export_evidence(
            s, store_for(app.settings.home), app.actor, code, evidence_ref, directory, purpose, to_person
        )
    click.echo(_("Exported to {path}").format(path=target))


@evidence_group.command("verify")
@click.argument("code")
@click.argument("evidence_ref", required=False)
@format_option
@pass_app
def evidence_verify(app: App, code: str, evidence_ref: str | None, fmt: str) -> None:
    """Re-hash stored evidence; exit 1 when a file no longer matches its SHA-256."""
    with app.session() as s:
        results = evidence.verify_evidence(s, store_for(app.settings.home), app.actor, code, evidence_ref)
    rows = [{"id": f"E{e.number}", "name": e.name, "sha256": e.sha256, "ok": ok} for e, ok in results]
    emit(rows, [("id", "ID"), ("name", _("Name")), ("sha256", "SHA-256"), ("ok", _("Hash OK"))], fmt)
    if not all(ok for _e, ok in results):
        raise click.exceptions.Exit(1)


def register_work(group: click.Group) -> None:
    group.add_command(task)
    group.add_command(evidence_group)
