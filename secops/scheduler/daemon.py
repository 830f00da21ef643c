"""``secops scheduler run``: APScheduler with its SQLAlchemy job store in our database, kept in step with
the Schedule rows (our source of truth) by polling a cheap signature of the table.

Guarantees: one scheduler per database (``lock``); missed runs coalesced within a grace time, else recorded
``missed``; at most one instance of a job; a fire time is started at most once (unique per schedule and
time, which also covers a crash between starting a job and APScheduler saving its next run time);
SIGTERM/SIGINT let the running job finish (up to ``stop_timeout``, then it is marked interrupted);
executions left running by a killed scheduler are marked interrupted at the next start.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from secops.cli.app import App
from secops.i18n import _
from secops.models.schedule import Schedule
from secops.scheduler import jobs, service
from secops.scheduler.lock import HEARTBEAT, Lock
from secops.scheduler.triggers import build_trigger

log = logging.getLogger("secops.scheduler")
_STATE: dict[str, App] = {}
FIRE_REF = "secops.scheduler.daemon:fire"


def fire(schedule_id: int, version: int, scheduled_for: datetime | None = None) -> None:
    """The APScheduler job function (stored by reference in the job store)."""
    app = _STATE["app"]
    with app.session() as session:
        schedule = session.get(Schedule, schedule_id)
        current = schedule.version if schedule is not None else None
    if current != version:  # changed or removed since this job was stored; the next sync replaces it
        return
    jobs.execute(app, schedule_id, trigger="scheduled", scheduled_for=scheduled_for)


class RecordingExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Hands the fire time to the job, so the execution row can be unique per (schedule, fire time)."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        patched = Job.__new__(Job)
        patched.__setstate__(job.__getstate__())
        patched._scheduler, patched._jobstore_alias = job._scheduler, job._jobstore_alias
        patched.kwargs = {**job.kwargs, "scheduled_for": run_times[-1]}
        super()._do_submit_job(patched, run_times)


def _key(trigger: BaseTrigger) -> str:
    """What makes two triggers the same (a stored job made by older code or another time zone is rebuilt)."""
    return f"{trigger} {getattr(trigger, 'timezone', '')}"


class Daemon:
    def __init__(
        self,
        app: App,
        *,
        poll: float = 2.0,
        misfire_grace: int = 300,
        stop_timeout: float = 60.0,
        workers: int = 4,
    ) -> None:
        self.app, self.poll, self.grace, self.stop_timeout = app, poll, misfire_grace, stop_timeout
        self.engine = app.engine()
        self.lock = Lock(self.engine)
        self.stop = threading.Event()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename="apscheduler_jobs")},
            executors={"default": RecordingExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace},
            timezone=app.settings.tz,
        )
        self._signature: Any = None

    def sync(self) -> int:
        """Make the job store match the Schedule rows; unchanged jobs keep their next run time."""
        with self.app.session() as session:
            schedules = service.all_schedules(session)
            self._signature = service.signature(session)
        wanted = {service.job_id(s): s for s in schedules if not s.paused}
        for job in self.scheduler.get_jobs():
            s = wanted.get(job.id)
            if s is None or job.kwargs.get("version") != s.version or _key(job.trigger) != _key(self._trigger(s)):
                self.scheduler.remove_job(job.id)
            elif job.misfire_grace_time != self.grace:
                job.modify(misfire_grace_time=self.grace)
        for jid, s in wanted.items():
            if self.scheduler.get_job(jid) is None:
                self.scheduler.add_job(
                    FIRE_REF,
                    trigger=self._trigger(s),
                    id=jid,
                    name=s.name,
                    kwargs={"schedule_id": s.id, "version": s.version},
                    replace_existing=True,
                )
        return len(wanted)

    def _trigger(self, s: Schedule) -> BaseTrigger:
        return build_trigger(s.cron, s.every_seconds, s.updated_at, self.app.settings.tz)

    def _on_skipped(self, event: JobEvent) -> None:
        try:
            schedule_id = int(event.job_id.removeprefix(service.JOB_ID_PREFIX))
        except ValueError:
            return
        if event.code == EVENT_JOB_MISSED:
            times = [event.scheduled_run_time]
            reason = _("the scheduler was not running at the time (missed by more than {s} s)").format(s=self.grace)
        else:
            times = list(getattr(event, "scheduled_run_times", []))
            reason = _("the previous run was still running")
        for when in times:
            if service.record_missed(self.engine, schedule_id, when, reason):
                log.warning("schedule %s: run of %s missed (%s)", schedule_id, when, reason)

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the running jobs finish", signal.Signals(signum).name)
        self.stop.set()

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; the exit code (0, or 2 when the lock was lost)."""
        self.lock.acquire()
        code = 0
        try:
            interrupted = service.mark_interrupted(self.engine)
            if interrupted:
                log.warning("%d execution(s) left running by a stopped scheduler marked interrupted", interrupted)
            _STATE["app"] = self.app
            self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
            self.scheduler.start(paused=True)
            count = self.sync()
            self.scheduler.resume()
            signal.signal(signal.SIGTERM, self._signal)
            signal.signal(signal.SIGINT, self._signal)
            log.info("scheduler started: %d active schedule(s), pid %d", count, os.getpid())
            last_beat = time.monotonic()
            while not self.stop.wait(self.poll):
                if time.monotonic() - last_beat >= HEARTBEAT.total_seconds():
                    if not self.lock.heartbeat():
                        log.error("another process took the scheduler lock; stopping")
                        code = 2
                        break
                    last_beat = time.monotonic()
                with self.app.session() as session:
                    changed = service.signature(session) != self._signature
                if changed:
                    log.info("schedules changed: %d active", self.sync())
        finally:
            self._shutdown()
        return code

    def _shutdown(self) -> None:
        if not self.scheduler.running:
            self.lock.release()
            return
        stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        stopper.start()
        stopper.join(self.stop_timeout)
        if stopper.is_alive():
            marked = service.mark_interrupted(self.engine, only_pids={os.getpid()})
            log.warning("stop timeout: %d running execution(s) marked interrupted", marked)
            self.lock.release()
            sys.stderr.flush()
            os._exit(0)
        self.lock.release()
        log.info("scheduler stopped")
