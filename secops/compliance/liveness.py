"""Noticing runs whose process died: a run left ``running`` by a killed process becomes ``interrupted``.

A run records the pid and hostname of its process and a heartbeat it refreshes per host. On this machine
the pid is checked directly (gone, a zombie, or a newer process reusing the pid all count as dead);
for a run started elsewhere only a stale heartbeat can tell.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlmodel import Session, select

from secops import audit
from secops.models.compliance import CheckRun
from secops.timeutil import utcnow

STALE_AFTER = timedelta(minutes=30)


def _proc_start(pid: int) -> datetime | None:
    """When process ``pid`` started (Linux /proc), or None when that cannot be read."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - tiny read
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            return datetime.max.replace(tzinfo=utcnow().tzinfo)  # a zombie: dead for our purpose
        ticks = int(fields[19])
        btime = next(int(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))  # noqa: SIM115
        return datetime.fromtimestamp(btime + ticks / os.sysconf("SC_CLK_TCK"), tz=utcnow().tzinfo)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_alive(pid: int, started: datetime) -> bool:
    """True when ``pid`` still runs and is the process that started at ``started`` (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    begun = _proc_start(pid)
    if begun is None:
        return True
    return begun <= started + timedelta(seconds=5)


def is_dead(run: CheckRun, now: datetime) -> bool:
    if run.hostname == socket.gethostname() and run.pid is not None:
        return not process_alive(run.pid, run.started_at)
    return now - run.heartbeat_at > STALE_AFTER


def mark_interrupted(session: Session, actor: str, now: datetime | None = None) -> list[int]:
    """Mark every ``running`` run whose process is gone as ``interrupted``; returns their ids."""
    now = now or utcnow()
    marked: list[int] = []
    for run in session.exec(select(CheckRun).where(CheckRun.status == "running")):
        if not is_dead(run, now):
            continue
        before = audit.snapshot(run)
        run.status = "interrupted"
        run.finished_at = run.heartbeat_at
        session.add(run)
        audit.record(
            session,
            actor,
            "check_run.interrupted",
            "check_run",
            str(run.id),
            before=before,
            after=audit.snapshot(run),
            details={"hosts_done": run.hosts_done, "hosts_total": run.hosts_total},
        )
        marked.append(run.id or 0)
    return marked
