"""The local transport: the same batched script, run by ``sh -s`` on this machine (no shell string built)."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass

SH = "/bin/sh"


@dataclass
class Output:
    """What a transport brought back from the script. ``status`` is None when the script never finished."""

    stdout: bytes
    stderr: bytes
    status: int | None
    timed_out: bool = False  # the host deadline passed; what arrived until then is kept
    overflow: bool = False  # more than ``max_bytes`` arrived; the rest was not read


def run_local(script: str, deadline: float, max_bytes: int) -> Output:
    """Run ``script`` through ``sh -s``; on the deadline or overflow the whole process group is killed."""
    proc = subprocess.Popen(
        [SH, "-s"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the deadline can kill every child the facts started
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(script.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
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
                    chunks[key.fd].append(data)
                    total += len(data)
                    overflow = total > max_bytes
        finished = not (timed_out or overflow)
    finally:
        if not finished:
            _kill(proc)
        proc.stdout.close()
        proc.stderr.close()
    status = None if timed_out or overflow else proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    return Output(b"".join(chunks[out_fd]), b"".join(chunks[err_fd]), status, timed_out, overflow)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
