"""`secops incident sent|deadlines|verify`: legal clocks and the timeline check (registered on the group)."""

from __future__ import annotations

from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.incident_common import shown, when
from secops.cli.output import emit, format_option
from secops.errors import InputError
from secops.i18n import _
from secops.incidents import reports, timeline
from secops.incidents.vocab import DEADLINE_STATUS_LABELS, label, parse_duration


@click.command("sent")
@click.argument("code")
@click.option("--report", "kind", required=True, help="notification, form03, form04 or personal_data.")
@click.option("--to", "recipients", required=True, help="Who received it.")
@click.option("--ref", help="Document number or message id.")
@click.option("--at", "at_text", help="When it was sent (ISO 8601; default now).")
@pass_app
def sent_cmd(app: App, code: str, kind: str, recipients: str, ref: str | None, at_text: str | None) -> None:
    """Record a report as sent; this stops its legal clock."""
    with app.session() as s:
        rep = reports.record_sent(s, app.actor, code, kind, recipients, ref, when(app, at_text))
    click.echo(
        _("{code}: {report} recorded as sent at {at}").format(
            code=code, report=kind, at=shown(app, rep.sent_at)
        )
    )


@click.command("deadlines")
@click.argument("code", required=False)
@click.option("--within", help="Only clocks due within this time (e.g. 48h, 2d); overdue ones always show.")
@click.option("--fail-on-overdue", is_flag=True, help="Exit 1 when a clock is overdue.")
@format_option
@pass_app
def deadlines_cmd(app: App, code: str | None, within: str | None, fail_on_overdue: bool, fmt: str) -> None:
    """Running legal clocks across incidents (or every clock of one incident)."""
    from datetime import timedelta

    window = timedelta(minutes=parse_duration(within)) if within else None
    with app.session() as s:
        if code:
            inc = timeline.get_incident(s, code)
            pairs = [(inc, st) for st in reports.incident_deadlines(s, inc)]
        else:
            pairs = reports.sweep(s, window)
        rows: list[dict[str, Any]] = [
            {
                "incident": inc.code,
                "kind": st.kind,
                "title": st.title,
                "recipients": st.recipients,
                "due": st.due.isoformat() if st.due else None,
                "status": st.status,
                "sent_at": st.sent_at.isoformat() if st.sent_at else None,
                "source": st.source,
            }
            for inc, st in pairs
        ]
    table = [
        {
            **r,
            "title": r["title"].get(app.lang),
            "due": shown(app, r["due"]),
            "status": label(DEADLINE_STATUS_LABELS, r["status"], app.lang),
            "sent_at": shown(app, r["sent_at"]),
        }
        for r in rows
    ]
    emit(
        table,
        [
            ("incident", _("Incident")),
            ("kind", _("Report")),
            ("title", _("Title")),
            ("due", _("Due")),
            ("status", _("Status")),
            ("sent_at", _("Sent")),
        ],
        fmt,
        data=rows,
        title=_("Legal deadlines"),
    )
    if fail_on_overdue and any(r["status"] == "overdue" for r in rows):
        raise click.exceptions.Exit(1)


@click.command("verify")
@click.argument("code", required=False)
@click.option("--all", "all_", is_flag=True, help="Every incident (the default when no ID is given).")
@format_option
@pass_app
def verify_cmd(app: App, code: str | None, all_: bool, fmt: str) -> None:
    """Recompute the hash chains; exit 1 naming the first broken event."""
    from sqlmodel import col, select

    from secops.models.incident import Incident

    if code and all_:
        raise InputError("give an incident code or --all, not both")
    with app.session() as s:
        items = (
            [timeline.get_incident(s, code)]
            if code
            else list(s.exec(select(Incident).order_by(col(Incident.code))))
        )
        results = [(inc, timeline.verify(s, inc)) for inc in items]
    rows = [
        {
            "code": inc.code,
            "events": inc.chain_length,
            "ok": brk is None,
            "broken_seq": brk.seq if brk else None,
            "reason": brk.reason if brk else None,
        }
        for inc, brk in results
    ]
    emit(
        rows,
        [
            ("code", _("Incident")),
            ("events", _("Events")),
            ("ok", _("Chain holds")),
            ("broken_seq", _("First broken event")),
            ("reason", _("Reason")),
        ],
        fmt,
    )
    broken = [brk for _inc, brk in results if brk is not None]
    if broken:
        for brk in broken:
            click.echo(f"error: {brk}", err=True)
        raise click.exceptions.Exit(1)


def register_reports(group: click.Group) -> None:
    for command in (sent_cmd, deadlines_cmd, verify_cmd):
        group.add_command(command)
