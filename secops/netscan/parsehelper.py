"""The nmap XML parser helper: the process ``isolated.IsolatedReader`` starts, and its frame protocol.

It parses one file with ``NmapXmlReader`` under a memory and a CPU limit and sends what it finds as
length-prefixed ``marshal`` frames on stdout (the fastest encoding between two copies of the same
interpreter): ``("hosts", [(row, ports), …])`` per batch, then ``("end", header, sha256, size, peak_kib)``,
``("error", message)`` or ``("too-large", limit)``. It reads the file once, hashing it in a second thread
and optionally copying it out, so the caller can store exactly the bytes that were parsed. It imports as
little as it can: it starts once per import. By hand: ``python -m secops.netscan.parsehelper FILE``
(frames on stdout, exit 2 when the file is refused).
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import queue
import resource
import sys
import threading
from contextlib import nullcontext
from dataclasses import asdict
from datetime import datetime
from typing import IO, Any

from secops.errors import InputError
from secops.netscan.xmlstream import NmapXmlReader
from secops.store import open_regular

BATCH_HOSTS = 250  # small batches keep the reader busy from early on and the last write short
MEMORY_LIMIT = 2 * 1024**3  # the helper's address space; the streaming reader needs a few tens of MB
CPU_LIMIT = 3600  # seconds of CPU: a 4 GiB file needs a few minutes; this only stops a runaway helper


class _TooLarge(Exception):
    """The file passed the size limit (the parent words the message, in the user's language)."""


class _Tee:
    """Hands the parser the file's bytes while a second thread hashes them and, optionally, copies them
    out. hashlib and file writes release the GIL, so on a second core this costs the parser nothing
    (inline, SHA-256 was about a tenth of the helper's work)."""

    def __init__(self, fh: IO[bytes], copy: IO[bytes] | None, limit: int) -> None:
        self.fh, self.copy, self.limit = fh, copy, limit
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


def send(out: IO[bytes], frame: tuple[Any, ...]) -> None:
    data = marshal.dumps(frame)
    out.write(len(data).to_bytes(8, "big") + data)


def receive(stream: IO[bytes]) -> tuple[Any, ...]:
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
        with open_regular(path, name) as fh, open(copy_to, "wb") if copy_to else nullcontext() as copy:
            source = _Tee(fh, copy, limit)
            reader = NmapXmlReader(source, name)
            batch: list[tuple[dict[str, Any], list[Any]]] = []
            for record in reader.hosts():
                batch.append((record.row, record.ports))
                if len(batch) >= BATCH_HOSTS:
                    send(out, ("hosts", batch))
                    batch = []
            if batch:
                send(out, ("hosts", batch))
            sha256 = source.finish()
    except InputError as exc:
        send(out, ("error", str(exc)))
        return 2
    except _TooLarge:
        send(out, ("too-large", limit))
        return 2
    except OSError as exc:
        send(out, ("error", f"{name}: {exc.strerror}"))
        return 2
    header = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(reader.header).items()}
    send(out, ("end", header, sha256, source.size, _peak_kib()))
    return 0


def _peak_kib() -> int:
    """This process's own peak resident memory. Not ``ru_maxrss``: after a vfork the exec'd child inherits
    its parent's peak there."""
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 5:
        sys.exit("usage: python -m secops.netscan.parsehelper FILE [NAME [LIMIT_BYTES [COPY_TO]]]")
    arguments = sys.argv[1:] + [None] * (5 - len(sys.argv))
    file_name, name_arg, limit_arg, copy_arg = arguments
    assert file_name is not None
    sys.exit(serve(file_name, name_arg or file_name, int(limit_arg or 4 * 1024**3), sys.stdout.buffer, copy_arg))
