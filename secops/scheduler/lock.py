"""One scheduler per database. PostgreSQL: a session advisory lock held on its own connection (freed by
the server when the process dies). SQLite: a lock row with a heartbeat; a stale row (no heartbeat for
``STALE`` or its process gone on this host) is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from secops import db
from secops.errors import InvalidStateError
from secops.i18n import _
from secops.models.schedule import SchedulerLock
from secops.timeutil import utcnow

LOCK_NAME = "scheduler"
ADVISORY_KEY = 0x5EC0_5C4E  # "secops scheduler"
HEARTBEAT = timedelta(seconds=5)
STALE = timedelta(seconds=30)


class SchedulerRunning(InvalidStateError):
    """Another scheduler holds the lock of this database (exit 2)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self._pg: Connection | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``SchedulerRunning`` naming the holder."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
                conn.close()
                raise SchedulerRunning(self._holder_message())
            self._pg = conn
        now = utcnow()
        with db.session_scope(self.engine) as session:
            row = session.get(SchedulerLock, LOCK_NAME)
            if row is not None and self._pg is None and not self._stale(row):
                raise SchedulerRunning(self._message(row))
            if row is None:
                row = SchedulerLock(name=LOCK_NAME, owner=self.owner, host=self.host, pid=self.pid)
            row.owner, row.host, row.pid, row.acquired, row.heartbeat = (
                self.owner,
                self.host,
                self.pid,
                now,
                now,
            )
            session.add(row)

    def _stale(self, row: SchedulerLock) -> bool:
        if row.host == self.host and not _pid_alive(row.pid):
            return True
        return utcnow() - row.heartbeat > STALE

    def heartbeat(self) -> bool:
        """Refresh the heartbeat; False when someone else took the lock (we must stop)."""
        with db.session_scope(self.engine) as session:
            row = session.get(SchedulerLock, LOCK_NAME)
            if row is None or row.owner != self.owner:
                return False
            row.heartbeat = utcnow()
            session.add(row)
        if self._pg is not None:
            self._pg.execute(text("SELECT 1"))
        return True

    def release(self) -> None:
        with db.session_scope(self.engine) as session:
            row = session.get(SchedulerLock, LOCK_NAME)
            if row is not None and row.owner == self.owner:
                session.delete(row)
        if self._pg is not None:
            try:
                self._pg.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            finally:
                self._pg.close()
                self._pg = None

    def _holder_message(self) -> str:
        with db.session_scope(self.engine) as session:
            row = session.get(SchedulerLock, LOCK_NAME)
        if row is None:
            return _("another scheduler is already running on this database")
        return self._message(row)

    @staticmethod
    def _message(row: SchedulerLock) -> str:
        return _(
            "another scheduler is already running on this database (process {pid} on {host}, "
            "last heartbeat {heartbeat:%Y-%m-%d %H:%M:%S} UTC)"
        ).format(pid=row.pid, host=row.host, heartbeat=row.heartbeat)


def holder(engine: Engine) -> SchedulerLock | None:
    """The lock row, for ``scheduler status``."""
    with db.session_scope(engine) as session:
        return session.get(SchedulerLock, LOCK_NAME)
