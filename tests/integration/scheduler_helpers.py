"""Real ``secops scheduler run`` processes for the scheduler tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Cli


def secops_argv(db_url: str, home: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "secops",
        "--db",
        db_url,
        "--home",
        str(home),
        "--lang",
        "en",
        "--actor",
        "scheduler-test",
        *args,
    ]


class Daemon:
    """One scheduler process in its own process group (so kill -9 takes its nmap children too)."""

    def __init__(self, db_url: str, home: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.fh = log.open("ab")
        self.proc = subprocess.Popen(
            secops_argv(db_url, home, "scheduler", "run", "--poll", "0.3", *args),
            stdout=self.fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    def wait_started(self, timeout: float = 30) -> None:
        wait_for(lambda: "scheduler started" in self.log.read_text(), timeout, f"daemon start ({self.log})")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.fh.close()

    def terminate(self, timeout: float = 20) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):  # leftover children (a fake nmap) of the daemon
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.fh.close()
        return code


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def history(run: Cli, name: str) -> list[dict[str, Any]]:
    result = run("schedule", "history", name, "--format", "json", "--detail", "--limit", "10000")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows
