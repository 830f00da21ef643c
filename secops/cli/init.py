"""`secops init`: create the data directory, a commented config file, and the database schema."""

from __future__ import annotations

import click

from secops.cli.app import App, pass_app
from secops.i18n import _

CONFIG_TEMPLATE = """\
# secops configuration. Environment variables (SECOPS_DB_URL, SECOPS_LANG) and flags override it.

[database]
# url = "postgresql+psycopg://secops@127.0.0.1:5432/secops"

[display]
lang = "vi"
timezone = "Asia/Ho_Chi_Minh"

# Used on official reports (Circular 20/2017 forms); never invented when absent.
# [organization]
# name = ""
# address = ""
# contact_name = ""
# contact_phone = ""
# contact_email = ""
"""


@click.command("init")
@pass_app
def init_cmd(app: App) -> None:
    """Create the data directory, a config file and the database (safe to run again)."""
    home = app.settings.home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "secops.toml"
    if not config.exists():
        config.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    app.engine()
    click.echo(_("Data directory: {path}").format(path=home))
    click.echo(_("Configuration: {path}").format(path=config))
    click.echo(_("Database ready: {url}").format(url=_redact(app.settings.db_url)))


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


COMMANDS: list[click.Command] = [init_cmd]
