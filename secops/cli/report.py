"""`secops report …`: write a report file (html, pdf, json or csv; vi or en) and print its path.

Contract: ``secops report <kind> … --out PATH [--format html|pdf|json|csv] [--lang vi|en]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from secops.catalog.loader import load_catalog
from secops.cli.app import App, pass_app
from secops.config import LANGS
from secops.reporting import render
from secops.reporting.render import FORMATS, Report


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--lang", "report_lang", type=click.Choice(LANGS), help="Language of the report (default: the global --lang)."
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: from the file name, else html)."
    )(func)
    func = click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write."
    )(func)
    return func


def _format(fmt: str | None, out: Path) -> str:
    if fmt:
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    return {"htm": "html"}.get(suffix, suffix) if suffix in (*FORMATS, "htm") else "html"


def _write(app: App, build: Callable[[Any, str], Report], out: Path, fmt: str | None, lang: str | None) -> None:
    lang = lang or app.lang
    with app.session() as session:
        report = build(session, lang)
    path = render.write(report, _format(fmt, out), out)
    click.echo(str(path))


@click.group("report")
def report() -> None:
    """Reports for managers, auditors and the response team (HTML, PDF, JSON, CSV; vi or en)."""


@report.command("levels")
@_common
@pass_app
def levels_cmd(app: App, out: Path, fmt: str | None, report_lang: str | None) -> None:
    """The managers' report: one-page summary, then one row per system."""
    from secops.reporting.levels import build_levels

    catalog = load_catalog(app.settings.catalogs)
    _write(app, lambda s, lang: build_levels(s, catalog, lang, tz=app.settings.tz), out, fmt, report_lang)


@report.command("system")
@click.argument("code")
@_common
@pass_app
def system_cmd(app: App, code: str, out: Path, fmt: str | None, report_lang: str | None) -> None:
    """One system requirement by requirement: evidence, attestations, waivers, fix list."""
    from secops.reporting.system import build_system

    catalog = load_catalog(app.settings.catalogs)
    _write(app, lambda s, lang: build_system(s, catalog, code, lang, tz=app.settings.tz), out, fmt, report_lang)


@report.command("network")
@click.argument("scan", type=int, required=False)
@_common
@pass_app
def network_cmd(app: App, scan: int | None, out: Path, fmt: str | None, report_lang: str | None) -> None:
    """A network scan (default: the latest): summary, diff, unknown hosts and ports, policy violations."""
    from secops.reporting.network import build_network

    catalog = load_catalog(app.settings.catalogs)
    _write(app, lambda s, lang: build_network(s, catalog, scan, lang, tz=app.settings.tz), out, fmt, report_lang)


@report.command("incident")
@click.argument("code")
@click.option(
    "--form",
    "form",
    type=click.Choice(("03", "04")),
    required=True,
    help="03: initial report; 04: final report (Circular 20/2017, Appendix I).",
)
@click.option("--draft", is_flag=True, help="Write the form even when mandatory (*) fields are empty.")
@_common
@pass_app
def incident_cmd(
    app: App, code: str, form: str, draft: bool, out: Path, fmt: str | None, report_lang: str | None
) -> None:
    """Form 03 or 04 of Circular 20/2017 for one incident (exit 2 listing empty mandatory fields)."""
    from secops.reporting.forms import build_form

    org = app.settings.section("organization")
    _write(
        app,
        lambda s, lang: build_form(s, f"form{form}", code, org, lang, draft=draft, tz=app.settings.tz),
        out,
        fmt,
        report_lang,
    )


@report.command("incidents")
@click.option(
    "--form",
    "form",
    type=click.Choice(("05",)),
    required=True,
    help="05: six-month or yearly summary to the national coordinator.",
)
@click.option("--period", required=True, help="2026H1, 2026H2 or 2026.")
@click.option("--draft", is_flag=True, help="Write the form even when mandatory (*) fields are empty.")
@_common
@pass_app
def incidents_cmd(
    app: App, form: str, period: str, draft: bool, out: Path, fmt: str | None, report_lang: str | None
) -> None:
    """Form 05 of Circular 20/2017: incidents received and handled in a period, by type."""
    from secops.reporting.forms import build_form

    org = app.settings.section("organization")
    _write(
        app,
        lambda s, lang: build_form(s, "form05", period, org, lang, draft=draft, tz=app.settings.tz),
        out,
        fmt,
        report_lang,
    )


@report.command("oscal")
@click.argument("run_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option("--lang", "report_lang", type=click.Choice(LANGS), help="Language of titles (default: en).")
@pass_app
def oscal_cmd(app: App, run_id: int, out: Path, report_lang: str | None) -> None:
    """OSCAL assessment-results (JSON) of a check run: findings and observations per requirement and host."""
    from secops.reporting.oscal import assessment_results

    catalog = load_catalog(app.settings.catalogs)
    with app.session() as session:
        doc = assessment_results(session, catalog, run_id, report_lang or "en")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    click.echo(str(out))


COMMANDS: list[click.Command] = [report]
