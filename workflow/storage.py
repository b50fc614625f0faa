"""Original files, stored once by the SHA-256 of their bytes and never changed afterwards."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OriginalStore:
    """A content-addressed folder: `<root>/<first two hex digits>/<sha256>`, files read-only."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store `data` unless a file with the same hash is already there; return its SHA-256.

        The bytes go to a temporary file in the target folder, are flushed to disk, made
        read-only and then hard-linked into place, so a reader never sees a partial file
        and an existing file is never overwritten.
        """
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, READ_ONLY)
            try:
                os.link(tmp_name, target)
                log.info("stored original %s (%d bytes)", digest, len(data))
            except FileExistsError:
                # Another upload of the same bytes won the race; its file is identical.
                pass
        finally:
            os.unlink(tmp_name)
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
