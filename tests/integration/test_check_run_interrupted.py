"""A `secops check run` killed with SIGKILL midway keeps the hosts it committed, and the next command marks
it ``interrupted``. The run is a real subprocess; the second host is a TCP server that never answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from secops import db
from secops.models import AuditEvent
from secops.models.compliance import CheckResult, CheckRun, FactBundle
from tests.conftest import Cli
from tests.integration.test_check_run import seed

pytestmark = pytest.mark.integration


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (an SSH server that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_killed_run_is_marked_interrupted_and_keeps_its_hosts(
    run: Cli, silent_port: int, tmp_path: Path
) -> None:
    seed(
        run.db_url,
        [
            {"name": "a-local", "address": "127.0.0.1", "transport": "local"},
            {
                "name": "b-silent",
                "address": "127.0.0.1",
                "transport": "ssh",
                "ssh_port": silent_port,
                "ssh_user": "nobody",
                "host_key": "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            },
        ],
    )
    argv = [
        sys.executable,
        "-m",
        "secops",
        "--db",
        run.db_url,
        "--home",
        str(run.home),
        "--lang",
        "en",
        "--actor",
        "tester",
        "check",
        "run",
        "--all",
        "--concurrency",
        "1",
        "--format",
        "json",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    engine = db.make_engine(run.db_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            with Session(engine) as s:
                current = s.exec(select(CheckRun)).first()
                if current is not None and current.hosts_done == 1:
                    break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the local host was never committed"
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=10)
        with Session(engine) as s:
            left = s.exec(select(CheckRun)).one()
            assert (left.status, left.pid, left.hosts_done, left.hosts_total) == ("running", proc.pid, 1, 2)
        nxt = run("check", "summary", "--format", "json")
        assert nxt.exit_code == 0, nxt.output
        with Session(engine) as s:
            marked = s.exec(select(CheckRun)).one()
            assert marked.status == "interrupted" and marked.finished_at is not None
            bundles = [b.host_name for b in s.exec(select(FactBundle))]
            assert bundles == ["a-local"]
            hosts = {r.host_name for r in s.exec(select(CheckResult))}
            assert hosts == {"a-local"}
            assert s.exec(
                select(AuditEvent).where(AuditEvent.action == "check_run.interrupted")
            ).one().actor == ("tester")
        # An interrupted run is still history: it can be re-scored like any other.
        rescored = run("check", "rescore", str(marked.id), "--format", "json")
        assert rescored.exit_code == 0, rescored.output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
