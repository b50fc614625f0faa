"""A folder that a network scanner or a clerk drops letters into; each file is ingested once.

A file is taken only when its size and modification time are the same on two scans in a
row, so a file the scanner is still writing waits for the next scan. After ingest it moves
to `done/`, or to `failed/` with `<name>.error.txt` beside it giving the code and the
reason in Thai and English. Bytes stored before lead to the same document, so dropping one
scan twice creates one document.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from workflow import operations
from workflow.errors import WorkflowError
from workflow.models import JOB_FAILED, User

log = logging.getLogger(__name__)

DONE_FOLDER = "done"
FAILED_FOLDER = "failed"
ERROR_SUFFIX = ".error.txt"
# Names that scanners, browsers and editors give files they are still writing.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")
EXTENSION_KEY = "saraban.watch_folder"


@dataclass
class _Failure:
    code: str
    message_th: str
    message_en: str


def _is_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith((".", "~")) or name.endswith(ERROR_SUFFIX):
        return False
    # A symbolic link could make the service read any file it can open, so links are left alone.
    if path.is_symlink():
        return False
    return path.is_file() and not name.lower().endswith(PARTIAL_SUFFIXES)


def _free_name(folder: Path, name: str) -> Path:
    """Return `folder/name`, or `folder/<stem>-2<suffix>` and so on when that name is taken."""
    target = folder / name
    stem, suffix = os.path.splitext(name)
    number = 2
    while target.exists() or (folder / (target.name + ERROR_SUFFIX)).exists():
        target = folder / f"{stem}-{number}{suffix}"
        number += 1
    return target


class WatchFolder:
    """Scan one folder and ingest the files whose size has settled.

    `user` (a clerk) becomes the uploader, and their office the owner, of every document;
    without one the documents belong to no office and only the command line shows them.
    One instance keeps the sizes seen on its previous scan, so call `scan` on the same
    instance each time.
    """

    def __init__(self, app: Flask, folder: str | os.PathLike, username: str | None = None):
        self.app = app
        self.folder = Path(folder)
        self.username = username
        self._last_seen: dict[str, tuple[int, int]] = {}

    @property
    def pending(self) -> bool:
        """Whether a file was seen on the last scan and is still waiting to settle."""
        return bool(self._last_seen)

    def scan(self) -> list[dict]:
        """Ingest each settled file and move it; return one outcome per file moved.

        An outcome is `{"file", "status": "done" | "failed", "moved_to", "document_id",
        "created", "error"}`. Raises FileNotFoundError when the folder does not exist.
        """
        if not self.folder.is_dir():
            raise FileNotFoundError(f"watch folder {self.folder} does not exist")
        current: dict[str, tuple[int, int]] = {}
        settled: list[Path] = []
        for path in sorted(self.folder.iterdir()):
            if not _is_candidate(path):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._last_seen.get(path.name) == signature:
                settled.append(path)
            else:
                current[path.name] = signature
        self._last_seen = current
        if not settled:
            return []
        with self.app.app_context():
            from workflow.app import get_store, new_session

            session = new_session()
            try:
                user = self._user(session)
                return [self._ingest(session, get_store(), path, user) for path in settled]
            finally:
                session.close()

    def _user(self, session) -> User | None:
        if not self.username:
            return None
        user = session.scalar(select(User).where(User.username == self.username))
        if user is None:
            raise LookupError(f"watch folder user {self.username!r} does not exist")
        return user

    def _ingest(self, session, store, path: Path, user: User | None) -> dict:
        max_bytes = self.app.config["SARABAN_MAX_UPLOAD_BYTES"]
        outcome: dict = {"file": path.name, "document_id": None, "created": False, "error": None}
        failure: _Failure | None = None
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
            ingested = operations.ingest_upload(session, store, data, path.name, user, max_bytes)
            outcome.update(document_id=ingested.document.id, created=ingested.created)
            if ingested.created:
                job = operations.run_parse(session, store, ingested.job.id, max_bytes)
                if job.status == JOB_FAILED:
                    failure = _Failure(job.error_code, job.error_message_th, job.error_message_en)
        except WorkflowError as error:
            failure = _Failure(error.code, error.message_th, error.message_en)
        except OSError as error:
            failure = _Failure("file_unreadable", "เปิดไฟล์นี้ไม่ได้", f"cannot read the file: {error}")
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the watcher
            log.exception("watch folder %s: ingest of %s failed", self.folder, path.name)
            failure = _Failure(
                "parse_failed",
                "ระบบอ่านไฟล์นี้ไม่สำเร็จเพราะเกิดข้อผิดพลาดภายใน กรุณาแจ้งผู้ดูแลระบบ",
                f"{type(error).__name__}: {error}",
            )
        if failure is None:
            target = self._move(path, DONE_FOLDER)
            log.info("watch folder: %s ingested as document %s (new: %s), moved to %s",
                     path.name, outcome["document_id"], outcome["created"], target)
            return {**outcome, "status": "done", "moved_to": str(target)}
        target = self._move(path, FAILED_FOLDER)
        target.with_name(target.name + ERROR_SUFFIX).write_text(
            f"{failure.message_th}\n{failure.message_en}\ncode: {failure.code}\n", encoding="utf-8"
        )
        log.warning("watch folder: %s failed (%s): %s; moved to %s", path.name, failure.code, failure.message_en, target)
        error = {"code": failure.code, "message": failure.message_th, "message_en": failure.message_en}
        return {**outcome, "status": "failed", "moved_to": str(target), "error": error}

    def _move(self, path: Path, folder_name: str) -> Path:
        folder = self.folder / folder_name
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, path.name)
        path.replace(target)
        return target


def scan_watch_folder(app: Flask) -> list[dict]:
    """Scan the app's watch folder (`SARABAN_WATCH_DIR`, owner `SARABAN_WATCH_USER`), for a periodic runner.

    Keeps one WatchFolder per app so that sizes carry over between calls. Returns [] when no
    folder is configured.
    """
    folder = app.config.get("SARABAN_WATCH_DIR") or os.environ.get("SARABAN_WATCH_DIR")
    if not folder:
        return []
    watcher = app.extensions.get(EXTENSION_KEY)
    if watcher is None or watcher.folder != Path(folder):
        username = app.config.get("SARABAN_WATCH_USER") or os.environ.get("SARABAN_WATCH_USER")
        watcher = app.extensions[EXTENSION_KEY] = WatchFolder(app, folder, username)
    return watcher.scan()
