"""Parse nmap XML in a helper process while this one writes to the database.

Why a second process: parsing is one half of an import's cost and the database writes are the other; in
two processes they run at the same time (two threads would not: both need the GIL). It also keeps the
parser of untrusted XML out of the process that holds the import's transaction: a parser that crashes or
runs into its memory limit costs the helper, and the import fails cleanly with nothing written. (The
helper runs as the same user; it is a boundary for failures, not a sandbox.)

The helper reads the file once: it hashes the bytes as it parses them and can write them into the content
store's incoming file, so what is stored is exactly what was parsed. It sends length-prefixed ``marshal``
frames on its stdout (the fastest encoding between two copies of the same interpreter): ``("hosts",
[(row, ports), …])`` per batch, then ``("end", header, sha256, size, peak_kib)``, ``("error", message)`` or
``("too-large", limit)``. ``python -m secops.netscan.isolated FILE`` runs it by hand (exit 2: refused).
"""

from __future__ import annotations

import errno
import gc
import hashlib
import marshal
import os
import queue
import resource
import site
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import secops
from secops.errors import InputError
from secops.netscan.xmlstream import HostRecord, NmapXmlReader, ScanHeader

BATCH_HOSTS = 1000
MEMORY_LIMIT = 2 * 1024**3  # the helper's address space; the streaming reader needs a few tens of MB
CPU_LIMIT = 3600  # seconds of CPU: a 4 GiB file needs a few minutes; this only stops a runaway helper
STDERR_KEPT = 2000


class _TooLarge(Exception):
    """The file passed the size limit (the parent words the message, in the user's language)."""


class _Tee:
    """Hands the parser the file's bytes while a second thread hashes them and, optionally, copies them
    out. hashlib and file writes release the GIL, so on a second core this costs the parser nothing
    (inline, SHA-256 was about a tenth of the helper's work)."""

    def __init__(self, fh: IO[bytes], copy: IO[bytes] | None, limit: int, name: str) -> None:
        self.fh, self.copy, self.limit, self.name = fh, copy, limit, name
        self.digest, self.size = hashlib.sha256(), 0
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=32)  # bounds memory if it lags
        self._failure: OSError | None = None
        self._thread = threading.Thread(target=self._consume, name="secops-hash", daemon=True)
        self._thread.start()

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.size += len(chunk)
        if self.size > self.limit:
            raise _TooLarge
        if chunk:
            self._chunks.put(chunk)
        return chunk

    def _consume(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is not None:
                continue  # keep draining so the reader never blocks
            try:
                self.digest.update(chunk)
                if self.copy is not None:
                    self.copy.write(chunk)
            except OSError as exc:  # e.g. the store's disk is full
                self._failure = exc

    def finish(self) -> str:
        """Read what the parser left (bytes after the root element), wait for the thread: the SHA-256."""
        while self.read(1 << 20):
            pass
        self._chunks.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        return self.digest.hexdigest()


def _open_regular(path: str, name: str) -> IO[bytes]:
    """Open a regular file for reading; symbolic links and special files are refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        reason = "a symbolic link; links are refused" if exc.errno == errno.ELOOP else exc.strerror
        raise InputError(f"{name}: cannot read ({reason})") from exc
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        fh.close()
        raise InputError(f"{name}: not a regular file")
    return fh


def _send(out: IO[bytes], frame: tuple[Any, ...]) -> None:
    data = marshal.dumps(frame)
    out.write(len(data).to_bytes(8, "big") + data)


def _receive(stream: IO[bytes]) -> tuple[Any, ...]:
    """One frame; EOFError when the helper stopped before writing it whole."""
    size = int.from_bytes(stream.read(8), "big")
    if size > MEMORY_LIMIT:  # no helper can have built a frame that large: the stream is corrupt
        raise EOFError
    data = stream.read(size) if size else b""
    if not data or len(data) != size:
        raise EOFError
    frame: tuple[Any, ...] = marshal.loads(data)  # noqa: S302 (our own helper's frames, see the module doc)
    return frame


def serve(path: str, name: str, limit: int, out: IO[bytes], copy_to: str | None = None) -> int:
    """The helper's side: parse ``path``, write frames to ``out``; 2 when the file is refused."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))
    gc.disable()  # millions of short-lived objects and no cycles: the collector would only rescan them
    try:
        with _open_regular(path, name) as fh, open(copy_to, "wb") if copy_to else nullcontext() as copy:
            source = _Tee(fh, copy, limit, name)
            reader = NmapXmlReader(source, name)  # type: ignore[arg-type]
            batch: list[tuple[dict[str, Any], list[Any]]] = []
            for record in reader.hosts():
                batch.append((record.row, record.ports))
                if len(batch) >= BATCH_HOSTS:
                    _send(out, ("hosts", batch))
                    batch = []
            if batch:
                _send(out, ("hosts", batch))
            sha256 = source.finish()
    except InputError as exc:
        _send(out, ("error", str(exc)))
        return 2
    except _TooLarge:
        _send(out, ("too-large", limit))
        return 2
    except OSError as exc:
        _send(out, ("error", f"{name}: {exc.strerror}"))
        return 2
    header = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(reader.header).items()}
    _send(out, ("end", header, sha256, source.size, _peak_kib()))
    return 0


def _peak_kib() -> int:
    """This process's own peak resident memory. Not ``ru_maxrss``: after a vfork the exec'd child inherits
    its parent's peak there."""
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


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
        command = [sys.executable, "-P", "-m", __name__, str(self.path), self.name, str(self.limit)]
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
        from secops.i18n import _  # here, not at the top: the helper itself never needs Babel

        proc = self._proc
        if proc is None or proc.stdout is None:
            raise RuntimeError("IsolatedReader.hosts() outside its with block")
        while True:
            try:
                frame = _receive(proc.stdout)
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


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 5:
        sys.exit("usage: python -m secops.netscan.isolated FILE [NAME [LIMIT_BYTES [COPY_TO]]]")
    arguments = sys.argv[1:] + [None] * (5 - len(sys.argv))
    file_name, name_arg, limit_arg, copy_arg = arguments
    assert file_name is not None
    sys.exit(serve(file_name, name_arg or file_name, int(limit_arg or 4 * 1024**3), sys.stdout.buffer, copy_arg))
