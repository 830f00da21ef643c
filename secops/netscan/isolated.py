"""Parse nmap XML in a helper process while this one writes to the database.

Why a second process: parsing is one half of an import's cost and the database writes are the other; in
two processes they run at the same time (two threads would not: both need the GIL). It also keeps the
parser of untrusted XML out of the process that holds the import's transaction: a parser that crashes or
runs into its memory limit costs the helper, and the import fails cleanly with nothing written. (The
helper runs as the same user; it is a boundary for failures, not a sandbox.) The helper's side and the
frames it sends are in ``parsehelper``.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import secops
from secops.errors import InputError
from secops.i18n import _
from secops.netscan import parsehelper
from secops.netscan.parsehelper import receive
from secops.netscan.xmlstream import HostRecord, ScanHeader

STDERR_KEPT = 2000


class IsolatedReader:
    """``NmapXmlReader``'s interface (``hosts()``, then ``header``) over a helper process.

    A context manager: the helper starts on entry and is killed on exit if it is still running. After
    ``hosts()`` is exhausted, ``sha256`` and ``size`` describe the bytes parsed (and copied to ``copy_to``).
    """

    def __init__(self, path: Path, name: str, limit: int, copy_to: Path | None = None) -> None:
        self.path, self.name, self.limit, self.copy_to = path, name, limit, copy_to
        self.header = ScanHeader()
        self.sha256: str | None = None
        self.size = 0
        self.peak_kib = 0  # the helper's peak resident memory, for benchmarks and diagnostics
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> IsolatedReader:
        command = [sys.executable, "-P", "-m", parsehelper.__name__, str(self.path), self.name, str(self.limit)]
        if self.copy_to is not None:
            command.append(str(self.copy_to))
        self._stderr = tempfile.TemporaryFile()
        # A fixed command without a shell; the file name is one argument and never an option (after -m).
        self._proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, env=_helper_env()
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            assert self._proc.stdout is not None
            self._proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()

    def hosts(self) -> Iterator[HostRecord]:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise RuntimeError("IsolatedReader.hosts() outside its with block")
        while True:
            try:
                frame = receive(proc.stdout)
            except (EOFError, ValueError, TypeError):
                raise self._failed(proc) from None
            kind = frame[0]
            if kind == "hosts":
                for row, ports in frame[1]:
                    yield HostRecord(row, ports)
            elif kind == "end":
                self.header = _header(frame[1])
                self.sha256, self.size, self.peak_kib = frame[2], frame[3], frame[4]
                return
            elif kind == "too-large":
                message = _("file larger than the limit of {limit} bytes").format(limit=frame[1])
                raise InputError(f"{self.name}: {message}")
            else:
                raise InputError(frame[1])

    def _failed(self, proc: subprocess.Popen[bytes]) -> InputError:
        """The helper stopped without its last frame: killed, out of memory, or a bug; say what it said."""
        code = proc.wait()
        assert self._stderr is not None
        self._stderr.seek(max(0, self._stderr.seek(0, os.SEEK_END) - STDERR_KEPT))
        said = self._stderr.read().decode("utf-8", "replace").strip() or "no message"
        return InputError(f"{self.name}: the nmap XML parser process failed (exit {code}): {said}")


def _helper_env() -> dict[str, str]:
    """The helper imports this very copy of secops, and never one from the current directory (``-P``). An
    installed copy the interpreter finds by itself; a source checkout goes on PYTHONPATH."""
    root = Path(secops.__file__).resolve().parent.parent
    site_dirs = {Path(p).resolve() for p in [*site.getsitepackages(), site.getusersitepackages()]}
    if root in site_dirs:
        return dict(os.environ)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _header(data: dict[str, Any]) -> ScanHeader:
    header = ScanHeader(**data)
    header.started = datetime.fromisoformat(data["started"]) if data["started"] else None
    header.finished = datetime.fromisoformat(data["finished"]) if data["finished"] else None
    return header
