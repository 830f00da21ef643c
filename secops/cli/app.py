"""The per-invocation application context handed to every command: settings, database, actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from sqlalchemy.engine import Engine
from sqlmodel import Session

from secops import db
from secops.config import Settings


@dataclass
class App:
    settings: Settings
    debug: bool = False
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        return self.settings.actor

    @property
    def lang(self) -> str:
        return self.settings.lang

    def engine(self) -> Engine:
        """The database engine, migrated to the current schema on first use."""
        if self._engine is None:
            self._engine = db.make_engine(self.settings.db_url)
            db.upgrade(self._engine)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction for one user action."""
        with db.session_scope(self.engine()) as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


pass_app = click.make_pass_decorator(App)
