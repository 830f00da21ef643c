"""The demo's view of scheduling: the default timetable ``secops schedule defaults`` would create."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from secops.cli.app import App
from secops.i18n import _
from secops.scheduler import defaults
from secops.scheduler.triggers import describe
from secops.timeutil import local, utcnow


def run_demo(app: App, console: Console) -> None:
    """Print the default timetable for the demo inventory (nothing is stored)."""
    today = local(utcnow(), app.settings.tz).date()
    with app.session() as session:
        planned, skipped = defaults.plan(session, today, app.settings.catalogs)
    table = Table(title=_("Default timetable (secops schedule defaults)"), header_style="bold")
    for header in (_("Name"), _("Job"), _("Target"), _("When"), _("Why")):
        table.add_column(header, overflow="fold")
    for item in planned:
        spec = item.spec
        table.add_row(
            *(
                Text(v)
                for v in (spec.name, spec.job, spec.target or "", describe(spec.cron, spec.every_seconds), item.why)
            )
        )
    console.print(table)
    for reason in skipped:
        console.print(_("not scheduled: {reason}").format(reason=reason))
    console.print(
        _(
            "Cron times are local ({tz}). Create them with `secops schedule defaults`, run them with "
            "`secops scheduler run` (see docs/scheduler.md)."
        ).format(tz=app.settings.tz)
    )
