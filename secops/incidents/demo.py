"""The incident part of ``secops demo``: a sample ransomware incident worked through a few steps, its legal
deadlines and its verified timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlmodel import col, select

from secops.i18n import _, pick
from secops.incidents import evidence, lifecycle, observables, playbooks, reports, tasks, timeline
from secops.incidents.vocab import DEADLINE_STATUS_LABELS, label
from secops.models import System
from secops.store import store_for
from secops.timeutil import local, utcnow

if TYPE_CHECKING:
    from secops.cli.app import App

RANSOM_NOTE = (
    "YOUR FILES ARE ENCRYPTED. Contact recover@evil-payments.example within 72 hours.\n"
    "Payment portal: hxxp://pay-now.evil-payments[.]example/id/7731\n"
)


def _demo_system(app: App) -> System | None:
    with app.session() as s:
        system = s.exec(select(System).where(System.code == "dvc-portal")).first()
        if system is not None:
            return system
        for candidate in s.exec(select(System).order_by(col(System.code))):
            if (candidate.effective_level or 0) >= 3:
                return candidate
    return None


def run_demo(app: App, console: Console) -> None:
    """Open a ransomware incident on ``dvc-portal`` (else the first level ≥ 3 system) and work it a little."""
    system = _demo_system(app)
    if system is None:
        console.print(_("No system of level 3 or higher: the incident demo is skipped."))
        return
    actor, now = app.actor, utcnow()
    book = playbooks.get_playbook("ransomware", app.settings.catalogs)
    with app.session() as s:
        inc = lifecycle.open_incident(
            s,
            actor,
            title=_("Files encrypted on {system}").format(system=system.name),
            systems=[system.code],
            category="ransomware",
            detected_at=now - timedelta(hours=3),
            detected_by="ids",
            detail=_("Demo: the IDS flagged mass file renames; a ransom note was found."),
            book=book,
            flags=["service_interruption"],
        )
        code = inc.code
    with app.session() as s:
        lifecycle.change_status(s, actor, code, "triage", at=now - timedelta(hours=2, minutes=30))
    note_dir = app.settings.home / "demo"
    note_dir.mkdir(parents=True, exist_ok=True)
    note_path = note_dir / "README_RESTORE_FILES.txt"
    note_path.write_text(RANSOM_NOTE, encoding="utf-8")
    with app.session() as s:
        ev = evidence.add_evidence(
            s,
            store_for(app.settings.home),
            actor,
            code,
            note_path,
            _("Ransom note found on the portal server"),
        )
    with app.session() as s:
        tasks.task_done(s, actor, code, "confirm_encryption", evidence=[f"E{ev.number}"])
    with app.session() as s:
        event = lifecycle.add_note(s, actor, code, RANSOM_NOTE)
        observables.extract_from_notes(s, actor, code, only_seq=event.seq)
    with app.session() as s:
        tasks.task_done(
            s, actor, code, "scope_affected_hosts", note=_("Two servers encrypted; backups intact.")
        )
        lifecycle.change_status(s, actor, code, "containment", at=now - timedelta(hours=1))
    with app.session() as s:
        tasks.task_done(s, actor, code, "isolate_hosts")
        reports.record_sent(s, actor, code, "notification", "VNCERT/CC; UBND tỉnh", "01/TB-SC")
    _show(app, console, code)


def _show(app: App, console: Console, code: str) -> None:
    tz = app.settings.tz
    with app.session() as s:
        inc = timeline.get_incident(s, code)
        states = reports.incident_deadlines(s, inc)
        events = timeline.events(s, inc)
        broken = timeline.verify(s, inc)
        open_tasks = len(lifecycle.open_tasks(s, inc))
    console.print(_("Incident {code}: {title}").format(code=code, title=inc.title))
    console.print(_("{n} tasks still open").format(n=open_tasks))
    table = Table(title=_("Legal deadlines"), header_style="bold")
    for header in (_("Report"), _("Due"), _("Status")):
        table.add_column(header)
    for st in states:
        due = f"{local(st.due, tz):%Y-%m-%d %H:%M}" if st.due else "-"
        table.add_row(pick(st.title), due, label(DEADLINE_STATUS_LABELS, st.status))
    console.print(table)
    tl = Table(title=_("Timeline"), header_style="bold")
    for header in ("#", _("Time"), _("Event"), "SHA-256"):
        tl.add_column(header)
    for e in events:
        tl.add_row(str(e.seq), f"{local(e.at, tz):%H:%M:%S}", e.kind, e.hash[:16])
    console.print(tl)
    if broken is None:
        console.print(_("Timeline verified: {n} events, chain intact").format(n=len(events)))
    else:
        console.print(f"[red]{broken}[/red]")
