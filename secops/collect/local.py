"""The local transport: the same batched script, run by ``sh -s`` on this machine (no shell string built)."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

SH = "/bin/sh"
STDERR_KEEP = 64 << 10  # the script's own stderr is only for diagnostics


@dataclass
class Output:
    """How the script ended. Its stdout went to the ``feed`` callback; ``status`` None = never finished."""

    stderr: bytes
    status: int | None
    timed_out: bool = False  # the host deadline passed; what arrived until then was fed
    overflow: bool = False  # more than ``max_bytes`` arrived; the rest was not read


Feed = Callable[[bytes], None]


def run_local(script: str, deadline: float, feed: Feed, max_bytes: int) -> Output:
    """Run ``script`` through ``sh -s``; on the deadline or overflow the whole process group is killed."""
    proc = subprocess.Popen(
        [SH, "-s"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the deadline can kill every child the facts started
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(script.encode())
        proc.stdin.close()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    err = bytearray()
    total, timed_out, overflow, finished = 0, False, False, False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(out_fd, selectors.EVENT_READ)
            sel.register(err_fd, selectors.EVENT_READ)
            while len(sel.get_map()) and not (timed_out or overflow):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                for key, _ in sel.select(timeout=remaining):
                    data = os.read(key.fd, 1 << 16)
                    if not data:
                        sel.unregister(key.fd)
                        continue
                    total += len(data)
                    if key.fd == out_fd:
                        feed(data)
                    elif len(err) < STDERR_KEEP:
                        err += data
                    overflow = total > max_bytes
        finished = not (timed_out or overflow)
    finally:
        if not finished:
            _kill(proc)
        proc.stdout.close()
        proc.stderr.close()
    status = proc.wait(timeout=max(0.1, deadline - time.monotonic())) if finished else None
    return Output(bytes(err), status, timed_out, overflow)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """TERM first (the script's trap removes its temp dir and watchdog), then KILL whatever is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
