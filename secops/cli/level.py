"""`secops level` commands: classify, approve, dossier, rules (Decree 85/2016 and later regimes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.errors import InputError
from secops.i18n import _, pick
from secops.levels.approval import approve as approve_level
from secops.levels.approval import record_dossier
from secops.levels.engine import Classification, classify_systems
from secops.levels.rules import DEFAULT_REGIME, load_regime


def _status_label(status: str) -> str:
    labels = {"proposed": _("proposed"), "approved": _("approved"), "undetermined": _("undetermined")}
    return labels.get(status, status)


def _level_cell(result: Classification) -> str:
    if result.proposed_level is not None:
        return str(result.proposed_level)
    return f"≥{result.minimum_level}" if result.minimum_level is not None else "?"


def _row(result: Classification, fmt: str) -> dict[str, Any]:
    """One table/CSV row; CSV keeps raw values (level number, status id) for spreadsheets and scripts."""
    main = result.reasons[0] if result.reasons else None
    reason = f"{pick(main.basis)}: {pick(main.text)}" if main else (pick(result.note) if result.note else "")
    table = fmt == "table"
    return {
        "system": result.system,
        "name": result.name,
        "proposed_level": _level_cell(result) if table else result.proposed_level,
        "status": _status_label(result.status) if table else result.status,
        "approved_level": result.approved_level,
        "reason": reason,
        "missing": list(result.missing),
    }


def render_classification(results: Sequence[Classification], fmt: str = "table") -> None:
    """Print classification results: a rich table (level, status, main reason in the active language),
    the JSON contract of issue 2, or CSV. The demo calls this."""
    columns = [
        ("system", _("System")),
        ("name", _("Name")),
        ("proposed_level", _("Proposed level")),
        ("status", _("Status")),
        ("approved_level", _("Approved level")),
        ("reason", _("Main reason")),
        ("missing", _("Missing inputs")),
    ]
    emit([_row(r, fmt) for r in results], columns, fmt, title=_("Security levels (Decree 85/2016)"),
         data=[r.to_json() for r in results])


@click.group("level")
def level() -> None:
    """Security levels: classify systems, record approvals and dossiers, list the rules."""


@level.command("classify")
@click.argument("codes", nargs=-1)
@click.option("--all", "all_systems", is_flag=True, help="Classify every system.")
@format_option
@pass_app
def classify(app: App, codes: tuple[str, ...], all_systems: bool, fmt: str) -> None:
    """Propose the level of each system from the rules and its components (Articles 5.2, 7–11)."""
    if not codes and not all_systems:
        raise InputError(_("give system codes or --all"))
    if codes and all_systems:
        raise InputError(_("give system codes or --all, not both"))
    with app.session() as session:
        results = classify_systems(session, None if all_systems else list(codes), app.actor,
                                   catalogs=app.settings.catalogs)
    render_classification(results, fmt)


@level.command("approve")
@click.argument("code")
@click.option("--level", "level_", type=click.IntRange(1, 5), required=True, help="Approved level (1–5).")
@click.option("--decision", required=True, help="Number/reference of the approval decision.")
@click.option("--date", "decided_on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="Date of the decision (YYYY-MM-DD).")
@click.option("--approver", required=True, help="Who signed the decision.")
@click.option("--force", is_flag=True, help="Allow a level below the proposal or an undetermined system.")
@click.option("--reason", help="Why (required with --force; kept in the audit log).")
@pass_app
def approve(app: App, code: str, level_: int, decision: str, decided_on: datetime, approver: str,
            force: bool, reason: str | None) -> None:
    """Record the approval decision of a system's level (Article 12)."""
    with app.session() as session:
        result = approve_level(session, code, level=level_, decision=decision, decided_on=decided_on.date(),
                               approver=approver, actor=app.actor, force=force, reason=reason,
                               catalogs=app.settings.catalogs)
    proposed = result.proposed_level if result.proposed_level is not None else _("undetermined")
    message = _("{code}: level {level} approved by decision {decision} of {date} (proposed: {proposed})")
    click.echo(message.format(code=code, level=level_, decision=decision, date=decided_on.date().isoformat(),
                              proposed=proposed))


@level.command("dossier")
@click.argument("code")
@click.argument("item")
@click.option("--ref", help="Document number or location of the item.")
@click.option("--remove", is_flag=True, help="Mark the item as no longer present.")
@pass_app
def dossier(app: App, code: str, item: str, ref: str | None, remove: bool) -> None:
    """Record a dossier item (Article 15) as present, with its reference."""
    with app.session() as session:
        record_dossier(session, code, item, ref=ref, actor=app.actor, remove=remove,
                       catalogs=app.settings.catalogs)
    message = _("{code}: dossier item {item} removed") if remove else _(
        "{code}: dossier item {item} recorded")
    click.echo(message.format(code=code, item=item))


@level.command("rules")
@click.option("--regime", default=DEFAULT_REGIME, show_default=True, help="Legal regime (rule file name).")
@format_option
@pass_app
def rules(app: App, regime: str, fmt: str) -> None:
    """List the rules of a legal regime with their legal basis and condition."""
    loaded = load_regime(regime, app.settings.catalogs)
    rows = [
        {"id": r.id, "level": r.level, "basis": pick(r.basis.as_dict()), "text": pick(r.text.as_dict()),
         "condition": r.when.to_text(), "when": r.when.to_data()}
        for r in loaded.rules
    ]
    columns = [("id", _("Rule")), ("level", _("Level")), ("basis", _("Legal basis")),
               ("text", _("Criterion")), ("condition", _("Condition"))]
    emit(rows, columns, fmt, title=pick(loaded.title.as_dict()))


COMMANDS: list[click.Command] = [level]
