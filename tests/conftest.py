"""Shared fixtures. Every database test runs on SQLite and on a real PostgreSQL server (``db_url``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from secops import db
from tests.pgserver import pg_server

BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run only with SECOPS_SLOW=1 (``make bench`` and manual runs)."""
    if os.environ.get("SECOPS_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set SECOPS_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    try:
        with pg_server() as url:
            yield url
    except RuntimeError as exc:
        if os.environ.get("SECOPS_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"PostgreSQL unavailable: {exc}")


def _new_pg_database(base: str) -> str:
    name = f"secops_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'secops.db'}"
    base: str = request.getfixturevalue("pg_base_url")
    return _new_pg_database(base)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on ``db_url``."""
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


class Cli:
    """Runs ``secops`` in-process against one database and home, like a user would from a shell."""

    def __init__(self, db_url: str, home: Path) -> None:
        self.db_url, self.home = db_url, home
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, lang: str = "en", **env: Any) -> Result:
        from secops.cli import cli

        argv = ["--db", self.db_url, "--home", str(self.home), "--lang", lang, "--actor", "tester", *args]
        return self.runner.invoke(cli, argv, input=input, env={k: str(v) for k, v in env.items()},
                                  catch_exceptions=False)


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(db_url, home)
