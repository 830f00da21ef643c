"""Content-addressed file store for evidence and raw scan output: ``<home>/store/sha256/ab/abcdef…``.

Files are streamed in (constant memory), named by their SHA-256, and made read-only. Storing the same
content twice keeps one copy. Callers record the digest; ``verify`` re-hashes a stored file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from secops.errors import InputError

CHUNK = 1 << 20


def open_regular(path: Path | str, name: str | None = None) -> BinaryIO:
    """Open a file to read, refusing symbolic links (``O_NOFOLLOW``) and anything but a regular file —
    ``O_NONBLOCK`` so that a FIFO is refused instead of blocking the open. ``name`` labels errors."""
    label = name or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        reason = "symbolic links are refused" if exc.errno == errno.ELOOP else exc.strerror
        raise InputError(f"{label}: cannot read ({reason})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{label}: not a regular file")
    return os.fdopen(fd, "rb")


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    path: Path


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InputError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> Stored:
        """Copy ``stream`` into the store while hashing it; refuse more than ``max_bytes``."""
        digest, size = hashlib.sha256(), 0
        tmp = self.incoming()
        try:
            with tmp.open("wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise InputError(f"file larger than the limit of {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            return self.adopt(tmp, digest.hexdigest())
        finally:
            tmp.unlink(missing_ok=True)

    def incoming(self) -> Path:
        """A new empty temporary file inside the store, for a writer that hashes as it goes (then
        ``adopt``); the caller removes it if it is not adopted."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        os.close(fd)
        return Path(name)

    def adopt(self, tmp: Path, sha256: str) -> Stored:
        """Make ``tmp`` (from ``incoming``, whose content hashes to ``sha256``) the stored copy: a rename on
        the same filesystem; if that content is already stored, ``tmp`` is dropped."""
        target = self.path_for(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = tmp.stat().st_size
        if target.exists():
            tmp.unlink()
        else:
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP)
            os.replace(tmp, target)
        return Stored(sha256, size, target)

    def put_file(self, source: Path, max_bytes: int | None = None) -> Stored:
        """Store a regular file; symlinks and special files are refused (see ``open_regular``)."""
        with open_regular(source) as fh:
            return self.put_stream(fh, max_bytes)

    def put_bytes(self, data: bytes) -> Stored:
        import io

        return self.put_stream(io.BytesIO(data))

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored file: True when it still matches its name."""
        path = self.path_for(sha256)
        if not path.exists():
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256


def store_for(home: Path) -> ContentStore:
    """The store of a secops home directory."""
    return ContentStore(home / "store")
