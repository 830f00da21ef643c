"""`secops incident …`, `secops playbook …` and `secops ioc …`: a thin layer over ``secops.incidents``."""

from __future__ import annotations

from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.incident_common import shown, when
from secops.cli.output import emit, format_option
from secops.i18n import _
from secops.incidents import lifecycle, playbooks, timeline, views
from secops.incidents.vocab import (
    CATEGORIES,
    DEADLINE_STATUS_LABELS,
    DETECTED_BY,
    FLAGS,
    PHASE_LABELS,
    RESOLUTIONS,
    SERIOUS_DECISION_LABELS,
    STATUS_LABELS,
    STATUSES,
    TASK_STATUS_LABELS,
    TLP_LEVELS,
    category_label,
    label,
)


@click.group("incident")
def incident() -> None:
    """Incidents (Circular 20/2017): record, work through a playbook, report, prove."""


@incident.command("open")
@click.option("--title", required=True, help="Short description of the incident.")
@click.option("--system", "systems", multiple=True, help="Code of an affected system (repeat).")
@click.option("--category", required=True, type=click.Choice(list(CATEGORIES)), help="Form 05 incident type.")
@click.option("--detected-at", required=True, help="Discovery time, ISO 8601 (no offset = local time).")
@click.option("--detected-by", required=True, type=click.Choice(DETECTED_BY), help="How it was detected.")
@click.option("--detail", help="Longer description.")
@click.option(
    "--playbook",
    "playbook_id",
    help="Playbook id (default: the first for the category; 'none' for no tasks).",
)
@click.option("--tlp", type=click.Choice(TLP_LEVELS), default="amber", show_default=True)
@click.option(
    "--flag", "flags", multiple=True, type=click.Choice(FLAGS), help="A condition already known (repeat)."
)
@format_option
@pass_app
def open_cmd(
    app: App,
    title: str,
    systems: tuple[str, ...],
    category: str,
    detected_at: str,
    detected_by: str,
    detail: str | None,
    playbook_id: str | None,
    tlp: str,
    flags: tuple[str, ...],
    fmt: str,
) -> None:
    """Open an incident; prints its code (SC-YYYY-NNNN)."""
    book = None
    if playbook_id and playbook_id != "none":
        book = playbooks.get_playbook(playbook_id, app.settings.catalogs)
    elif playbook_id is None:
        book = playbooks.default_for(category, app.settings.catalogs)
    detected = when(app, detected_at)
    assert detected is not None
    with app.session() as s:
        inc = lifecycle.open_incident(
            s,
            app.actor,
            title=title,
            systems=list(systems),
            category=category,
            detected_at=detected,
            detected_by=detected_by,
            detail=detail,
            book=book,
            tlp=tlp,
            flags=flags,
        )
        data = views.show(s, inc)
    if fmt == "json":
        emit([], [], fmt, data=data)
        return
    click.echo(_("Opened {code}").format(code=data["code"]))
    _print_deadlines(app, data["code"], data["deadlines"], fmt)


@incident.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--open", "open_only", is_flag=True, help="Only incidents not closed.")
@format_option
@pass_app
def list_cmd(app: App, status: str | None, open_only: bool, fmt: str) -> None:
    """List incidents."""
    with app.session() as s:
        rows = views.list_rows(s, status, open_only)
    table = [
        {
            **r,
            "status": label(STATUS_LABELS, r["status"], app.lang),
            "category": category_label(r["category"], app.lang),
            "detected_at": shown(app, r["detected_at"]),
        }
        for r in rows
    ]
    emit(
        table,
        [
            ("code", _("Code")),
            ("title", _("Title")),
            ("status", _("Status")),
            ("category", _("Category")),
            ("systems", _("Systems")),
            ("level", _("Level")),
            ("possibly_serious", _("Possibly serious")),
            ("detected_at", _("Detected")),
            ("assignee", _("Assignee")),
        ],
        fmt,
        data=rows,
    )


@incident.command("show")
@click.argument("code")
@format_option
@pass_app
def show_cmd(app: App, code: str, fmt: str) -> None:
    """Show an incident: systems, tasks, deadlines and timeline."""
    with app.session() as s:
        data = views.show(s, timeline.get_incident(s, code))
    if fmt == "json":
        emit([], [], fmt, data=data)
        return
    systems = ", ".join(
        f"{x['code']} ({_('level')} {x['level'] if x['level'] is not None else '?'})" for x in data["systems"]
    )
    click.echo(f"{data['code']}: {data['title']}")
    click.echo(
        f"{_('Status')}: {label(STATUS_LABELS, data['status'], app.lang)}"
        + (f" ({data['resolution']})" if data["resolution"] else "")
    )
    click.echo(f"{_('Category')}: {category_label(data['category'], app.lang)}")
    click.echo(f"{_('Systems')}: {systems or '-'}")
    click.echo(f"{_('Detected')}: {shown(app, data['detected_at'])} ({data['detected_by']})")
    if data["possibly_serious"]:
        click.echo(_("Possibly serious incident (Decision 05 Art. 9)"))
    tasks = [
        {
            **t,
            "title": t["title"].get(app.lang) or t["title"].get("en"),
            "due": shown(app, t["due"]),
            "status": label(TASK_STATUS_LABELS, t["status"], app.lang),
            "phase": label(PHASE_LABELS, t["phase"], app.lang),
        }
        for t in data["tasks"]
    ]
    if tasks:
        emit(
            tasks,
            [
                ("number", "#"),
                ("id", _("Task")),
                ("phase", _("Phase")),
                ("title", _("Title")),
                ("status", _("Status")),
                ("due", _("Due")),
            ],
            fmt,
            title=_("Tasks"),
        )
    _print_deadlines(app, data["code"], data["deadlines"], fmt)
    _print_timeline(app, data["timeline"], fmt)


def _print_deadlines(app: App, code: str, states: list[dict[str, Any]], fmt: str) -> None:
    rows = [
        {
            "code": code,
            **d,
            "due": shown(app, d["due"]),
            "sent_at": shown(app, d["sent_at"]),
            "status": label(DEADLINE_STATUS_LABELS, d["status"], app.lang),
            "title": d["title"].get(app.lang) or d["title"]["en"],
        }
        for d in states
    ]
    emit(
        rows,
        [
            ("title", _("Report")),
            ("due", _("Due")),
            ("status", _("Status")),
            ("sent_at", _("Sent")),
            ("ref", _("Reference")),
        ],
        fmt,
        title=_("Legal deadlines"),
    )


def _print_timeline(app: App, events: list[dict[str, Any]], fmt: str) -> None:
    rows = [{**e, "at": shown(app, e["at"]), "hash": str(e["hash"])[:12]} for e in events]
    emit(
        rows,
        [("seq", "#"), ("at", _("Time")), ("actor", _("Actor")), ("kind", _("Event")), ("hash", "SHA-256")],
        fmt,
        title=_("Timeline"),
    )


@incident.command("timeline")
@click.argument("code")
@format_option
@pass_app
def timeline_cmd(app: App, code: str, fmt: str) -> None:
    """The hash-chained timeline of an incident."""
    with app.session() as s:
        data = views.show(s, timeline.get_incident(s, code))["timeline"]
    if fmt == "json":
        emit([], [], fmt, data=data)
        return
    _print_timeline(app, data, fmt)


@incident.command("status")
@click.argument("code")
@click.argument("new_status", type=click.Choice(STATUSES))
@click.option("--resolution", type=click.Choice(RESOLUTIONS), help="Required when closing.")
@click.option("--at", "at_text", help="When the phase really began (ISO 8601; default now).")
@click.option("--note", help="Why.")
@pass_app
def status_cmd(
    app: App, code: str, new_status: str, resolution: str | None, at_text: str | None, note: str | None
) -> None:
    """Move an incident along new → triage → containment → eradication → recovery → closed (or reopen)."""
    with app.session() as s:
        inc = lifecycle.change_status(
            s, app.actor, code, new_status, resolution=resolution, at=when(app, at_text), note=note
        )
    click.echo(
        _("{code} is now {status}").format(code=code, status=label(STATUS_LABELS, inc.status, app.lang))
    )


@incident.command("assign")
@click.argument("code")
@click.argument("person")
@pass_app
def assign_cmd(app: App, code: str, person: str) -> None:
    """Give the incident to a responder."""
    with app.session() as s:
        lifecycle.assign(s, app.actor, code, person)
    click.echo(_("{code} assigned to {person}").format(code=code, person=person))


@incident.command("note")
@click.argument("code")
@click.argument("text")
@click.option("--corrects", type=int, help="Seq of the earlier event this note corrects.")
@click.option("--extract-iocs", is_flag=True, help="Add the ip, domain, url, hash and e-mail values found.")
@pass_app
def note_cmd(app: App, code: str, text: str, corrects: int | None, extract_iocs: bool) -> None:
    """Add a note (corrections are new notes; nothing is ever edited)."""
    from secops.incidents import observables

    with app.session() as s:
        event = lifecycle.add_note(s, app.actor, code, text, corrects)
        found = observables.extract_from_notes(s, app.actor, code, only_seq=event.seq) if extract_iocs else []
    click.echo(_("Note recorded as event {seq}").format(seq=event.seq))
    for obs in found:
        click.echo(f"  + {obs.type} {obs.value}")


@incident.command("flag")
@click.argument("code")
@click.option("--set", "add", multiple=True, type=click.Choice(FLAGS), help="Record a condition (repeat).")
@click.option("--clear", multiple=True, type=click.Choice(FLAGS), help="Withdraw a condition (repeat).")
@click.option("--at", "at_text", help="When it became known (ISO 8601; default now).")
@pass_app
def flag_cmd(app: App, code: str, add: tuple[str, ...], clear: tuple[str, ...], at_text: str | None) -> None:
    """Record or clear conditions: the serious-incident five, personal_data, exceeds_capacity (Form 03)."""
    with app.session() as s:
        inc = lifecycle.set_flags(s, app.actor, code, list(add), list(clear), when(app, at_text))
        serious = lifecycle.possibly_serious(inc, lifecycle.max_level(s, inc))
    click.echo(_("{code} conditions: {flags}").format(code=code, flags=", ".join(sorted(inc.flags)) or "-"))
    if serious:
        click.echo(_("Possibly serious incident (Decision 05 Art. 9)"))


@incident.command("serious")
@click.argument("code")
@click.option(
    "--confirm/--reject", "confirm", required=True, help="Confirm or reject the possibly-serious flag."
)
@click.option("--reason", required=True)
@pass_app
def serious_cmd(app: App, code: str, confirm: bool, reason: str) -> None:
    """Confirm or reject the "possibly serious" flag (audited)."""
    with app.session() as s:
        lifecycle.decide_serious(s, app.actor, code, "confirmed" if confirm else "rejected", reason)
    click.echo(
        _("{code}: serious flag {decision}").format(
            code=code,
            decision=label(SERIOUS_DECISION_LABELS, "confirmed" if confirm else "rejected", app.lang),
        )
    )


from secops.cli.incident_intel import ioc, playbook, register_intel  # noqa: E402
from secops.cli.incident_reports import register_reports  # noqa: E402
from secops.cli.incident_work import register_work  # noqa: E402

register_work(incident)
register_reports(incident)
register_intel(incident)

COMMANDS: list[click.Command] = [incident, playbook, ioc]
