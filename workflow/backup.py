"""Back up the database and the stored originals into one folder or archive, and restore them.

A backup folder contains:

- `manifest.json`: the format, the database's kind and Alembic revision, and the SHA-256
  and size of every other file in the backup;
- the database: `database.sqlite3` (a copy made with SQLite's online backup API),
  `database.pgdump` (`pg_dump --format=custom`), or `database.jsonl` (a portable dump,
  table by table through SQLAlchemy, used for PostgreSQL when `pg_dump` is missing or
  when asked for);
- `originals/<aa>/<sha256>`: the stored originals, as in the store.

The database is copied before the originals. An original is stored before the row that
names it is committed and is never changed or deleted, so every document in the copy has
its original in the backup.

A backup named `*.tar.gz`, `*.tgz` or `*.tar` is written as a folder, then packed.

Restore checks every file against the manifest before it writes anything, and writes only
into a database without rows and an empty storage folder. It then upgrades the schema to
this version's newest revision.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from sqlalchemy import MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from workflow.db import alembic_config, upgrade_to_head
from workflow.errors import WorkflowError
from workflow.storage import OriginalStore

log = logging.getLogger(__name__)

FORMAT = "saraban-backup/1"
MANIFEST = "manifest.json"
ORIGINALS = "originals"
DATABASE_FILES = {"sqlite": "database.sqlite3", "pg_dump": "database.pgdump", "json": "database.jsonl"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
# Rows inserted per statement when restoring a JSON dump.
INSERT_BATCH = 1000
COPY_CHUNK = 1024 * 1024
_DIGEST_NAME = re.compile(r"^[0-9a-f]{64}$")


class BackupError(WorkflowError):
    """A backup or restore that cannot be done, with a Thai message for the operator."""


# --- backup -----------------------------------------------------------------------------


def create_backup(database_url: str, storage_root: str | os.PathLike, dest: str | os.PathLike,
                  database_format: str = "auto") -> dict:
    """Write a backup of the database at `database_url` and the store at `storage_root` to `dest`.

    `database_format` is `auto` (SQLite's backup API, or pg_dump when it is installed) or
    `json`. Returns the manifest. Raises BackupError when `dest` exists and is not an empty
    folder, or when the database cannot be copied.
    """
    dest = Path(dest)
    if _is_archive(dest):
        if dest.exists():
            raise _target_exists(dest)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as work:
            manifest = _write_backup_folder(database_url, Path(storage_root), Path(work) / "backup", database_format)
            _pack(Path(work) / "backup", dest)
        return manifest
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise _target_exists(dest)
    return _write_backup_folder(database_url, Path(storage_root), dest, database_format)


def _target_exists(dest: Path) -> BackupError:
    return BackupError(
        "backup_target_exists",
        f"มีไฟล์หรือโฟลเดอร์ “{dest}” อยู่แล้ว ระบบจะไม่เขียนทับ กรุณาระบุชื่อใหม่หรือโฟลเดอร์ว่าง",
        f"{dest} exists and is not an empty folder",
    )


def _write_backup_folder(database_url: str, storage_root: Path, folder: Path, database_format: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    kind = _database_kind(database_url, database_format)
    database_file = folder / DATABASE_FILES[kind]
    revision = _alembic_revision(database_url)
    if kind == "sqlite":
        _backup_sqlite(database_url, database_file)
    elif kind == "pg_dump":
        _backup_pg_dump(database_url, database_file)
    else:
        _backup_json(database_url, database_file)
    files = {database_file.name: _file_entry(database_file)}
    files.update(_copy_originals(storage_root, folder / ORIGINALS))
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": {"dialect": make_url(database_url).get_backend_name(), "format": kind,
                     "file": database_file.name, "alembic_revision": revision},
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    log.info("backup written to %s: %s database, %d originals", folder, kind, len(files) - 1)
    return manifest


def _database_kind(database_url: str, database_format: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if database_format == "json":
        return "json"
    if database_format != "auto":
        raise ValueError(f"unknown database format {database_format!r}")
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql" and shutil.which("pg_dump"):
        return "pg_dump"
    return "json"


def _alembic_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ValueError(f"not a SQLite file URL: {database_url}")
    return Path(database)


def _backup_sqlite(database_url: str, target: Path) -> None:
    source = sqlite3.connect(_sqlite_path(database_url))
    copy = sqlite3.connect(target)
    try:
        # The backup API copies a consistent snapshot while other connections keep writing.
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq URI without the password, and an environment that carries the password."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run_pg_tool(args: list[str], env: dict[str, str], action_th: str) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(
            "database_tool_failed",
            f"{action_th}ไม่สำเร็จ: {proc.stderr.strip()[:500]}",
            f"{args[0]} exited with {proc.returncode}: {proc.stderr.strip()[:500]}",
        )


def _backup_pg_dump(database_url: str, target: Path) -> None:
    uri, env = _libpq(database_url)
    _run_pg_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target),
                  "--dbname", uri], env, "สำรองฐานข้อมูลด้วย pg_dump ")


def _encode_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _backup_json(database_url: str, target: Path) -> None:
    """Write one JSON line per table header and one per row, tables in dependency order."""
    if make_url(database_url).get_backend_name() == "sqlite":
        # pysqlite opens no transaction for SELECTs, so dump a snapshot copy instead.
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".snapshot-") as work:
            snapshot = Path(work) / "snapshot.sqlite3"
            _backup_sqlite(database_url, snapshot)
            _dump_json(f"sqlite:///{snapshot}", target)
        return
    _dump_json(database_url, target)


def _dump_json(database_url: str, target: Path) -> None:
    engine = create_engine(database_url)
    try:
        with _snapshot(engine) as connection, target.open("w", encoding="utf-8") as out:
            metadata = MetaData()
            metadata.reflect(connection)
            for table in metadata.sorted_tables:
                columns = [column.name for column in table.columns]
                out.write(json.dumps({"table": table.name, "columns": columns}, ensure_ascii=False) + "\n")
                order = list(table.primary_key.columns) or list(table.columns)
                for row in connection.execute(select(table).order_by(*order)):
                    values = [_encode_value(value) for value in row]
                    out.write(json.dumps({"row": values}, ensure_ascii=False) + "\n")
    finally:
        engine.dispose()


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """Yield a connection whose reads all see one snapshot of the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with connection.begin():
                yield connection
        return
    with engine.connect() as connection:
        with connection.begin():
            yield connection


def _copy_originals(storage_root: Path, target: Path) -> dict[str, dict]:
    """Copy every stored original, checking its bytes against its name; return manifest entries."""
    entries = {}
    if not storage_root.is_dir():
        return entries
    for path in sorted(storage_root.glob("*/*")):
        if not path.is_file() or not _DIGEST_NAME.match(path.name):
            continue
        relative = Path(ORIGINALS) / path.parent.name / path.name
        destination = target / path.parent.name / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        entry = _copy_with_digest(path, destination)
        if entry["sha256"] != path.name:
            # NOTE: the damaged original is still copied, so that nothing more is lost. Restore
            # rejects such a backup, because its manifest entry does not match the file's name.
            log.error("original %s does not match its SHA-256 (%s)", path, entry["sha256"])
        entries[relative.as_posix()] = entry
    return entries


def _copy_with_digest(source: Path, destination: Path) -> dict:
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, destination.open("wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _file_entry(path: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "size": path.stat().st_size}


def _is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES)


def _pack(folder: Path, archive: Path) -> None:
    mode = "w" if archive.name.endswith(".tar") else "w:gz"
    partial = archive.with_name(f".{archive.name}.partial")
    with tarfile.open(partial, mode) as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    partial.rename(archive)


# --- restore ----------------------------------------------------------------------------


def restore_backup(source: str | os.PathLike, database_url: str, storage_root: str | os.PathLike) -> dict:
    """Restore the backup at `source` into the database at `database_url` and the store at `storage_root`.

    Raises BackupError, before writing anything, when the backup is incomplete or damaged,
    when the database has rows in any table, or when the storage folder is not empty.
    Returns the manifest.
    """
    source = Path(source)
    if source.is_file() and _is_archive(source):
        with tempfile.TemporaryDirectory(prefix="saraban-restore-") as work:
            with tarfile.open(source) as tar:
                tar.extractall(work, filter="data")
            return _restore_folder(Path(work), database_url, Path(storage_root))
    if not source.is_dir():
        raise BackupError("backup_not_found", f"ไม่พบข้อมูลสำรอง “{source}”", f"no backup folder or archive at {source}")
    return _restore_folder(source, database_url, Path(storage_root))


def _restore_folder(folder: Path, database_url: str, storage_root: Path) -> dict:
    manifest = _verified_manifest(folder)
    _require_empty_storage(storage_root)
    _require_empty_database(database_url)
    database = manifest["database"]
    _restore_database(folder / database["file"], database["format"], database["alembic_revision"], database_url)
    upgrade_to_head(database_url)
    _restore_originals(folder, manifest, storage_root)
    log.info("restored backup %s into %s", folder, make_url(database_url).render_as_string(hide_password=True))
    return manifest


def _damaged(detail_th: str, detail_en: str) -> BackupError:
    return BackupError(
        "backup_damaged",
        f"ข้อมูลสำรองไม่ครบหรือเสียหาย ({detail_th}) ระบบจึงไม่กู้คืน กรุณาใช้ชุดสำรองอื่น",
        f"the backup is incomplete or damaged: {detail_en}",
    )


def _verified_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise _damaged("ไม่พบไฟล์ manifest.json", f"{folder / MANIFEST} is missing") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged("อ่านไฟล์ manifest.json ไม่ได้", f"{folder / MANIFEST}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise _damaged("รูปแบบไม่รู้จัก", f"format is {manifest.get('format')!r}, expected {FORMAT}")
    for relative, entry in manifest["files"].items():
        path = folder / relative
        if not path.is_file():
            raise _damaged(f"ไม่พบไฟล์ {relative}", f"{relative} is missing")
        actual = _file_entry(path)
        if actual != entry:
            raise _damaged(f"ไฟล์ {relative} ไม่ตรงกับค่า SHA-256 ที่บันทึกไว้",
                           f"{relative}: expected {entry}, found {actual}")
        if relative.startswith(f"{ORIGINALS}/") and entry["sha256"] != Path(relative).name:
            raise _damaged(f"ต้นฉบับ {relative} ไม่ตรงกับชื่อไฟล์", f"{relative} holds bytes of {entry['sha256']}")
    return manifest


def _require_empty_storage(storage_root: Path) -> None:
    if storage_root.exists() and (not storage_root.is_dir() or any(storage_root.iterdir())):
        raise BackupError(
            "restore_target_not_empty",
            f"โฟลเดอร์เก็บต้นฉบับ “{storage_root}” มีไฟล์อยู่แล้ว ระบบกู้คืนได้เฉพาะโฟลเดอร์ว่าง "
            "กรุณาระบุโฟลเดอร์ใหม่ (SARABAN_STORAGE)",
            f"storage folder {storage_root} is not empty",
        )


def tables_with_rows(database_url: str) -> list[str]:
    """Return the tables of the database that hold at least one row, not counting alembic_version."""
    if make_url(database_url).get_backend_name() == "sqlite" and not _sqlite_path(database_url).exists():
        return []
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            return [
                table.name for table in metadata.sorted_tables
                if table.name != "alembic_version"
                and connection.scalar(select(func.count()).select_from(select(table).limit(1).subquery()))
            ]
    finally:
        engine.dispose()


def _require_empty_database(database_url: str) -> None:
    filled = tables_with_rows(database_url)
    if filled:
        raise BackupError(
            "restore_target_not_empty",
            f"ฐานข้อมูลปลายทางมีข้อมูลอยู่แล้ว ({', '.join(filled[:5])}) ระบบกู้คืนได้เฉพาะฐานข้อมูลว่าง "
            "กรุณาสร้างฐานข้อมูลใหม่แล้วระบุใน DATABASE_URL",
            f"target database has rows in {', '.join(filled)}",
        )


def _restore_database(dump: Path, kind: str, revision: str | None, database_url: str) -> None:
    backend = make_url(database_url).get_backend_name()
    if kind == "sqlite" and backend == "sqlite":
        _restore_sqlite(dump, database_url)
    elif kind == "pg_dump" and backend == "postgresql":
        uri, env = _libpq(database_url)
        _run_pg_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
                      "--single-transaction", "--dbname", uri, str(dump)], env, "กู้คืนฐานข้อมูลด้วย pg_restore ")
    elif kind == "json":
        _restore_json(dump, revision, database_url)
    else:
        raise BackupError(
            "backup_database_mismatch",
            f"ข้อมูลสำรองนี้เป็นฐานข้อมูลแบบ {kind} กู้คืนลงฐานข้อมูล {backend} โดยตรงไม่ได้ "
            "กรุณาสำรองใหม่ด้วย --database-format json",
            f"a {kind} backup cannot be restored into {backend}; back up with --database-format json",
        )


def _restore_sqlite(dump: Path, database_url: str) -> None:
    target_path = _sqlite_path(database_url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _decode_value(value: Any, python_type: type | None) -> Any:
    if value is None or python_type is None:
        return value
    if python_type is dt.datetime:
        moment = dt.datetime.fromisoformat(value)
        # SQLite returns the project's UTC times without a zone; PostgreSQL would read them in its own.
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if python_type is dt.time:
        return dt.time.fromisoformat(value)
    if python_type is decimal.Decimal:
        return decimal.Decimal(value)
    if python_type is bytes:
        return base64.b64decode(value)
    return value


def _python_type(column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _restore_json(dump: Path, revision: str | None, database_url: str) -> None:
    """Create the backup's schema revision, then insert the rows table by table."""
    if revision is not None:
        command.upgrade(alembic_config(database_url), revision)
    # A plain engine: on SQLite its connections leave foreign keys off while rows go in.
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            _insert_json_rows(connection, metadata, dump)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection, metadata)
    finally:
        engine.dispose()


def _insert_json_rows(connection: Connection, metadata: MetaData, dump: Path) -> None:
    table = None
    columns: list[str] = []
    types: list[type | None] = []
    batch: list[dict] = []

    def flush() -> None:
        if batch:
            connection.execute(table.insert(), batch)
            batch.clear()

    with dump.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if "table" in record:
                flush()
                table = metadata.tables.get(record["table"])
                if table is None:
                    raise _damaged(f"ไม่มีตาราง {record['table']} ในฐานข้อมูล", f"unknown table {record['table']}")
                columns = record["columns"]
                types = [_python_type(table.columns[name]) for name in columns]
            elif table is not None and table.name != "alembic_version":
                values = record["row"]
                batch.append({name: _decode_value(value, kind) for name, value, kind in zip(columns, values, types)})
                if len(batch) >= INSERT_BATCH:
                    flush()
    flush()


def _reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """Move each serial or identity sequence past the largest restored key."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if _python_type(column) is not int:
                continue
            connection.execute(
                text(
                    f'SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX("{column.name}"), 1), '
                    f'MAX("{column.name}") IS NOT NULL) FROM "{table.name}"'
                ),
                {"table": f'"{table.name}"', "column": column.name},
            )


def _restore_originals(folder: Path, manifest: dict, storage_root: Path) -> None:
    store = OriginalStore(storage_root)
    for relative, entry in manifest["files"].items():
        if not relative.startswith(f"{ORIGINALS}/"):
            continue
        digest = store.put((folder / relative).read_bytes())
        if digest != entry["sha256"]:
            raise _damaged(f"ต้นฉบับ {relative} เปลี่ยนไประหว่างกู้คืน", f"{relative} changed while restoring")


# --- command line -----------------------------------------------------------------------


def _summary(manifest: dict, path: Path) -> dict:
    originals = [name for name in manifest["files"] if name.startswith(f"{ORIGINALS}/")]
    return {"path": str(path), "database": manifest["database"], "originals": len(originals),
            "bytes": sum(entry["size"] for entry in manifest["files"].values())}


def backup_command(dest: str, database_format: str) -> int:
    """`saraban backup DEST`: back up the configured database and store; print one JSON line."""
    import sys

    from workflow.config import config_from_env

    config = config_from_env()
    try:
        manifest = create_backup(config["DATABASE_URL"], config["SARABAN_STORAGE"], dest, database_format)
    except BackupError as error:
        sys.stderr.write(f"{error.message_th} [{error.code}]\n")
        return 1
    sys.stdout.write(json.dumps(_summary(manifest, Path(dest)), ensure_ascii=False) + "\n")
    return 0


def restore_command(source: str) -> int:
    """`saraban restore SRC`: restore into the configured (empty) database and store; print one JSON line."""
    import sys

    from workflow.config import config_from_env

    config = config_from_env()
    try:
        manifest = restore_backup(source, config["DATABASE_URL"], config["SARABAN_STORAGE"])
    except BackupError as error:
        sys.stderr.write(f"{error.message_th} [{error.code}]\n")
        return 1
    sys.stdout.write(json.dumps(_summary(manifest, Path(source)), ensure_ascii=False) + "\n")
    return 0
