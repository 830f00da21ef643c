"""`secops incident export|stats`, `secops playbook …` and `secops ioc …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.i18n import _, pick
from secops.incidents import observables, playbooks, stats, stix, timeline, views
from secops.incidents.lifecycle import systems_of
from secops.incidents.vocab import ROLES, TLP_LEVELS, category_label, label
from secops.jsonutil import to_json


@click.command("export")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["json", "stix"]), default="json", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@pass_app
def export_cmd(app: App, code: str, fmt: str, output: Path | None) -> None:
    """Export one incident as JSON (everything) or a STIX 2.1 bundle; the export goes on the timeline."""
    from secops.incidents.lifecycle import record

    org = str(app.settings.section("organization").get("name") or "secops")
    with app.session() as s:
        inc = timeline.lock_incident(s, code)
        record(s, app.actor, inc, "exported", {"format": fmt, "to": str(output) if output else "stdout"})
        if fmt == "stix":
            systems = [{"code": x.code, "level": x.effective_level} for x, _l in systems_of(s, inc)]
            last = timeline.events(s, inc)[-1].at
            data = stix.bundle(inc, observables.list_observables(s, inc), systems, org, last)
        else:
            data = views.full_export(s, inc)
    text = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "stix" else to_json(data)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(_("Written to {path}").format(path=output), err=True)
    else:
        click.echo(text)


@click.command("stats")
@click.option("--period", required=True, help="2026, 2026H1, 2026Q1 or 2026-05 (local calendar).")
@format_option
@pass_app
def stats_cmd(app: App, period: str, fmt: str) -> None:
    """Time to acknowledge, contain and close (from the timeline), and counts per Form 05 category."""
    with app.session() as s:
        data = stats.stats(s, stats.parse_period(period, app.settings.tz))
    if fmt == "json":
        emit([], [], fmt, data=data)
        return
    click.echo(_("Period {period}: {n} incidents").format(period=data["period"], n=data["incidents"]))
    metric_rows = [
        {"metric": _(name.replace("_", " ").capitalize()), **data[name]}
        for name in ("time_to_acknowledge", "time_to_contain", "time_to_close")
    ]
    emit(
        metric_rows,
        [
            ("metric", _("Metric")),
            ("count", _("Incidents")),
            ("mean_hours", _("Mean (h)")),
            ("median_hours", _("Median (h)")),
            ("max_hours", _("Max (h)")),
        ],
        fmt,
    )
    cat_rows = [{"category": category_label(c, app.lang), "count": n} for c, n in data["by_category"].items()]
    emit(
        cat_rows,
        [("category", _("Category")), ("count", _("Incidents"))],
        fmt,
        title=_("By category (Form 05)"),
    )


def register_intel(group: click.Group) -> None:
    group.add_command(export_cmd)
    group.add_command(stats_cmd)


@click.group("playbook")
def playbook() -> None:
    """Response playbooks (YAML in playbooks/ and <catalog>/playbooks)."""


@playbook.command("list")
@format_option
@pass_app
def playbook_list(app: App, fmt: str) -> None:
    """List the playbooks."""
    books = playbooks.load_all(app.settings.catalogs)
    data: list[dict[str, Any]] = [
        {
            "id": b.id,
            "version": b.version,
            "title": b.title.as_dict(),
            "categories": b.categories,
            "steps": len(b.steps()),
            "source": b.source,
        }
        for b in books.values()
    ]
    rows = [{**d, "title": pick(d["title"])} for d in data]
    emit(
        rows,
        [("id", "ID"), ("title", _("Title")), ("categories", _("Categories")), ("steps", _("Steps"))],
        fmt,
        data=data,
    )


@playbook.command("show")
@click.argument("playbook_id")
@format_option
@pass_app
def playbook_show(app: App, playbook_id: str, fmt: str) -> None:
    """Show a playbook's phases and steps."""
    book = playbooks.get_playbook(playbook_id, app.settings.catalogs)
    if fmt == "json":
        emit([], [], fmt, data=book.model_dump(mode="json"))
        return
    click.echo(f"{book.id}: {pick(book.title.as_dict())}")
    rows = [
        {
            "phase": phase,
            "id": st.id,
            "title": pick(st.title.as_dict()),
            "owner": label(ROLES, st.owner),
            "due": f"{st.due.offset} / {st.due.after}" if st.due else "",
            "mandatory": st.mandatory,
            "when": st.when.model_dump(exclude_defaults=True) if st.when else "",
        }
        for phase, st in book.steps()
    ]
    emit(
        rows,
        [
            ("phase", _("Phase")),
            ("id", _("Step")),
            ("title", _("Title")),
            ("owner", _("Owner role")),
            ("due", _("Due")),
            ("mandatory", _("Mandatory")),
            ("when", _("Condition")),
        ],
        fmt,
    )


@playbook.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_app
def playbook_validate(app: App, paths: tuple[Path, ...]) -> None:
    """Validate playbook files (default: every installed playbook); errors name file and line."""
    files: list[Path] = []
    for p in paths or tuple(playbooks.playbook_dirs(app.settings.catalogs)):
        files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    for f in files:
        book = playbooks.load_playbook(f)
        click.echo(_("{file}: ok ({id}, {n} steps)").format(file=f, id=book.id, n=len(book.steps())))


@click.group("ioc")
def ioc() -> None:
    """Observables / indicators of compromise across incidents."""


@ioc.command("add")
@click.argument("code")
@click.argument("kind", type=click.Choice(observables.TYPES))
@click.argument("value")
@click.option("--tlp", type=click.Choice(TLP_LEVELS), default="amber", show_default=True)
@pass_app
def ioc_add(app: App, code: str, kind: str, value: str, tlp: str) -> None:
    """Add an observable to an incident."""
    with app.session() as s:
        obs = observables.add_observable(s, app.actor, code, kind, value, tlp)
    click.echo(f"{code}: + {obs.type} {obs.value} (TLP:{obs.tlp.upper()})")


@ioc.command("list")
@click.argument("code")
@format_option
@pass_app
def ioc_list(app: App, code: str, fmt: str) -> None:
    """List the observables of an incident."""
    with app.session() as s:
        items = observables.list_observables(s, timeline.get_incident(s, code))
    rows = [{"type": o.type, "value": o.value, "tlp": o.tlp, "source": o.source} for o in items]
    emit(rows, [("type", _("Type")), ("value", _("Value")), ("tlp", "TLP"), ("source", _("Source"))], fmt)


@ioc.command("extract")
@click.argument("code")
@click.option(
    "--tlp", type=click.Choice(TLP_LEVELS), help="Label for new observables (default: the incident's)."
)
@pass_app
def ioc_extract(app: App, code: str, tlp: str | None) -> None:
    """Extract observables from every note of an incident."""
    with app.session() as s:
        added = observables.extract_from_notes(s, app.actor, code, tlp)
    for obs in added:
        click.echo(f"{code}: + {obs.type} {obs.value}")
    click.echo(_("{n} new observables").format(n=len(added)))


@ioc.command("search")
@click.argument("value")
@format_option
@pass_app
def ioc_search(app: App, value: str, fmt: str) -> None:
    """Find incidents whose observables contain VALUE."""
    with app.session() as s:
        hits = observables.search(s, value)
    rows = [
        {
            "incident": i.code,
            "title": i.title,
            "status": i.status,
            "type": o.type,
            "value": o.value,
            "tlp": o.tlp,
        }
        for i, o in hits
    ]
    emit(
        rows,
        [
            ("incident", _("Incident")),
            ("title", _("Title")),
            ("type", _("Type")),
            ("value", _("Value")),
            ("tlp", "TLP"),
        ],
        fmt,
    )
