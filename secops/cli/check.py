"""`secops check` commands: list the catalog and run the checks' embedded samples.

Other command modules attach more commands to this group (``from secops.cli.check import check``).
"""

from __future__ import annotations

import time
from typing import Any

import click

from secops.catalog import Catalog, Check, Requirement, load_catalog
from secops.cli.app import App, pass_app
from secops.cli.output import emit, format_option
from secops.errors import InputError, NotFoundError
from secops.i18n import _


def catalog_of(app: App) -> Catalog:
    """The catalog for this invocation: shipped checks plus ``--catalog`` directories."""
    return load_catalog(app.settings.catalogs)


@click.group("check")
def check() -> None:
    """Compliance checks: the requirement catalog, host checks, runs and scores."""


def _check_min_level(catalog: Catalog, item: Check) -> int:
    """Lowest level at which the check counts: its own gate, else its lowest requirement's level."""
    levels = [catalog.requirements[r].min_level for r in item.requirements if r in catalog.requirements]
    return max(item.applies_to.min_level or 1, min(levels, default=1))


def _check_row(catalog: Catalog, item: Check, lang: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title.pick(lang),
        "severity": item.severity,
        "platform": item.platform,
        "min_level": _check_min_level(catalog, item),
        "requirements": list(item.requirements),
        "facts": list(item.facts),
        "root": any(catalog.facts[f].root for f in item.facts if f in catalog.facts),
        "source": f"{item.path}:{item.line}",
    }


def _requirement_row(item: Requirement, lang: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "regime": item.regime,
        "group": item.group,
        "kind": item.kind,
        "title": item.title.pick(lang),
        "min_level": item.min_level,
        "parameter": item.parameter,
        "source": item.source,
        "confidence": item.confidence,
        "checks": list(item.checks),
        "manual": item.manual,
        "scored": item.scored,
    }


@check.command("list")
@click.option("--level", type=click.IntRange(1, 5), help="Only what applies to a system of this level.")
@click.option("--requirement", "requirement_id", help="Only the checks proving this requirement.")
@click.option("--platform", type=click.Choice(["linux", "network"]), help="Only checks of this platform.")
@click.option("--requirements", "show_requirements", is_flag=True, help="List requirements, not checks.")
@format_option
@pass_app
def list_checks(
    app: App,
    level: int | None,
    requirement_id: str | None,
    platform: str | None,
    show_requirements: bool,
    fmt: str,
) -> None:
    """List checks (or, with --requirements, the requirement catalog)."""
    catalog = catalog_of(app)
    if requirement_id is not None and requirement_id not in catalog.requirements:
        raise NotFoundError(_("unknown requirement {id}").format(id=requirement_id))
    if show_requirements:
        reqs = [r for r in catalog.requirements.values() if level is None or r.min_level <= level]
        if requirement_id is not None:
            reqs = [r for r in reqs if r.id == requirement_id]
        rows = [_requirement_row(r, app.lang) for r in reqs]
        columns = [
            ("id", _("Requirement")),
            ("group", _("Group")),
            ("min_level", _("Level")),
            ("title", _("Title")),
            ("confidence", _("Confidence")),
            ("checks", _("Checks")),
            ("manual", _("Manual")),
        ]
        emit(rows, columns, fmt, title=_("Requirements"))
        return
    checks = list(catalog.checks.values())
    if requirement_id is not None:
        wanted = set(catalog.requirements[requirement_id].checks)
        checks = [c for c in checks if c.id in wanted]
    if platform is not None:
        checks = [c for c in checks if c.platform == platform]
    if level is not None:
        checks = [c for c in checks if _check_min_level(catalog, c) <= level]
    rows = [_check_row(catalog, c, app.lang) for c in sorted(checks, key=lambda c: c.id)]
    columns = [
        ("id", _("Check")),
        ("severity", _("Severity")),
        ("min_level", _("Level")),
        ("title", _("Title")),
        ("requirements", _("Requirements")),
    ]
    emit(rows, columns, fmt, title=_("Checks"))


@check.command("test")
@click.argument("check_ids", nargs=-1, metavar="[CHECK]...")
@format_option
@pass_app
def test_checks(app: App, check_ids: tuple[str, ...], fmt: str) -> None:
    """Run the embedded pass/fail samples of every check (or the named ones); exit 1 on any failure."""
    from secops.probes import run_samples

    catalog = catalog_of(app)
    unknown = [cid for cid in check_ids if cid not in catalog.checks]
    if unknown:
        raise InputError(_("unknown check: {ids}").format(ids=", ".join(unknown)))
    selected = [catalog.checks[cid] for cid in check_ids] if check_ids else list(catalog.checks.values())
    started = time.perf_counter()
    results = run_samples(catalog, selected)
    elapsed_ms = (time.perf_counter() - started) * 1000
    failed = [r for r in results if not r.ok]
    if fmt == "table":
        for result in failed:
            click.echo(
                _("FAIL {check} [{name}]: expected {expected}, got {status}: {detail}").format(
                    check=result.check,
                    name=result.name,
                    expected=result.expected,
                    status=result.outcome.status,
                    detail=result.outcome.detail or result.outcome.observed,
                )
            )
        click.echo(
            _("{passed}/{total} samples of {checks} checks passed in {ms:.0f} ms").format(
                passed=len(results) - len(failed), total=len(results), checks=len(selected), ms=elapsed_ms
            )
        )
    else:
        rows = [
            {
                "check": r.check,
                "sample": r.name,
                "expected": r.expected,
                "status": r.outcome.status,
                "ok": r.ok,
                "detail": r.outcome.detail,
            }
            for r in results
        ]
        columns = [(k, k) for k in ("check", "sample", "expected", "status", "ok", "detail")]
        emit(rows, columns, fmt)
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS: list[click.Command] = [check]
