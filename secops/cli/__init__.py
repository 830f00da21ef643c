"""The ``secops`` command line: global options, error mapping (DESIGN §4) and the command groups."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from secops import __version__
from secops.cli.app import App
from secops.config import LANGS, load_settings
from secops.errors import SecopsError
from secops.i18n import set_language


class SecopsGroup(click.Group):
    """Maps our domain errors to exit codes with a one-line message; ``--debug`` shows the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SecopsError as exc:
            _report(ctx, exc, str(exc), exc.exit_code)
        except OperationalError as exc:
            _report(ctx, exc, f"database error: {exc.orig}", 2)
        return None


def _report(ctx: click.Context, exc: BaseException, message: str, code: int) -> None:
    app = ctx.find_object(App)
    if app is not None and app.debug:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    ctx.exit(code)


@click.group(cls=SecopsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="SECOPS_DB_URL", help="Database URL (sqlite:///… or postgresql+psycopg://…).")
@click.option("--home", envvar="SECOPS_HOME", type=click.Path(), help="Data directory (default ~/.local/share/secops).")
@click.option("--lang", type=click.Choice(LANGS), envvar="SECOPS_LANG", help="Language of output (vi or en).")
@click.option("--actor", envvar="SECOPS_ACTOR", help="Who is acting, for the audit log (default: the OS user).")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(), help="Extra directory of checks/playbooks.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="secops")
@click.pass_context
def cli(
    ctx: click.Context,
    db_url: str | None,
    home: str | None,
    lang: str | None,
    actor: str | None,
    catalogs: tuple[str, ...],
    debug: bool,
) -> None:
    """secops: security levels (Decree 85/2016), compliance checks, network scans and incident response."""
    try:
        settings = load_settings(home=home, db_url=db_url, lang=lang, actor=actor, catalogs=catalogs)
    except SecopsError as exc:
        raise click.UsageError(str(exc)) from exc
    set_language(settings.lang)
    app = App(settings=settings, debug=debug)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from secops.cli import check, check_run, demo, incident, init, inventory, level, net, report, system, trust

    for module in (init, demo, inventory, system, level, check, check_run, trust, net, incident, report):
        for command in module.COMMANDS:
            cli.add_command(command)
    from secops.cli import schedule as schedule_cli

    for command in schedule_cli.COMMANDS:
        cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="secops")
