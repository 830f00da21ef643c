"""Content-addressed file store for evidence and raw scan output: ``<home>/store/sha256/ab/abcdef…``.

Files are streamed in (constant memory), named by their SHA-256, and made read-only. Storing the same
content twice keeps one copy. Callers record the digest; ``verify`` re-hashes a stored file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from secops.errors import InputError

CHUNK = 1 << 20


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
        """Store a regular file; symlinks and special files are refused (opened with O_NOFOLLOW)."""
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror}; symbolic links are refused)") from exc
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InputError(f"{source}: not a regular file")
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
