"""`saraban backup` and `saraban restore` on SQLite and on a real PostgreSQL server.

The source database holds the demo's circular chain and carbon-credit ledger, and a few
ingested letters, one of which could not be read. A round trip restores into a new,
empty database and storage folder, then compares every table's rows and every original
byte for byte. The refusals check that a non-empty target or a damaged backup leaves
the target as it was.
"""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import SAMPLES
from workflow import backup
from workflow.db import upgrade_to_head
from workflow.storage import OriginalStore

# The brief's server: database `test`, user root, on loopback. Each run creates its own databases.
POSTGRES_ADMIN_URL = os.environ.get("SARABAN_TEST_BACKUP_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")
INGESTED = [
    SAMPLES / "000_6094e22fb7add413.txt",
    SAMPLES / "001_dla_circular_bin_count-sarabun.pdf",
]
UNREADABLE = "<!doctype html><html><body>หน้าเข้าสู่ระบบ e-office</body></html>"
COMMAND_TIMEOUT_SECONDS = 600


def saraban(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workflow.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS,
    )


def populate(env: dict, folder: Path) -> None:
    """Fill a database through the command line: the ledger demo and three ingested files."""
    unreadable = folder / "หนังสือด่วน.pdf"
    unreadable.write_text(UNREADABLE, encoding="utf-8")
    for args in (["init-db"], ["ledger", "demo"], ["ingest", *map(str, INGESTED), str(unreadable)]):
        proc = saraban(env, *args)
        assert proc.returncode == 0, proc.stderr[-2000:]


def table_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            rows = {}
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
            return rows
    finally:
        engine.dispose()


def stored_bytes(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def assert_same_content(source: dict, target: dict) -> None:
    source_rows = table_rows(source["DATABASE_URL"])
    target_rows = table_rows(target["DATABASE_URL"])
    assert sorted(target_rows) == sorted(source_rows)
    for table, rows in source_rows.items():
        assert target_rows[table] == rows, table
    assert stored_bytes(Path(target["SARABAN_STORAGE"])) == stored_bytes(Path(source["SARABAN_STORAGE"]))


# --- databases --------------------------------------------------------------------------


def sqlite_env(folder: Path) -> dict:
    return {"DATABASE_URL": f"sqlite:///{folder / 'saraban.db'}", "SARABAN_STORAGE": str(folder / "originals")}


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("sqlite-source")
    env = sqlite_env(folder)
    populate(env, folder)
    return env


@pytest.fixture(scope="module")
def postgres_admin():
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the server is unusable here
        engine.dispose()
        pytest.skip(f"PostgreSQL at {make_url(POSTGRES_ADMIN_URL).render_as_string()} is unreachable: {error}")
    created: list[str] = []

    def new_database() -> str:
        name = f"saraban_backup_{uuid.uuid4().hex[:12]}"
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield new_database
    with engine.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_source(postgres_admin, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("postgres-source")
    env = {"DATABASE_URL": postgres_admin(), "SARABAN_STORAGE": str(folder / "originals")}
    populate(env, folder)
    return env


def backup_and_restore(source: dict, target: dict, dest: Path, *backup_args: str) -> None:
    made = saraban(source, "backup", str(dest), *backup_args)
    assert made.returncode == 0, made.stderr[-2000:]
    restored = saraban(target, "restore", str(dest))
    assert restored.returncode == 0, restored.stderr[-2000:]


# --- round trips ------------------------------------------------------------------------


def test_source_has_originals_and_ledger(sqlite_source):
    rows = table_rows(sqlite_source["DATABASE_URL"])
    assert len(rows["documents"]) == 3
    assert len(rows["ledger_entries"]) > 0
    assert len(stored_bytes(Path(sqlite_source["SARABAN_STORAGE"]))) == 3


def test_sqlite_round_trip_folder(sqlite_source, tmp_path):
    target = sqlite_env(tmp_path / "target")
    backup_and_restore(sqlite_source, target, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["format"] == "sqlite"
    assert_same_content(sqlite_source, target)


def test_sqlite_json_round_trip_archive(sqlite_source, tmp_path):
    target = sqlite_env(tmp_path / "target")
    backup_and_restore(sqlite_source, target, tmp_path / "saraban-2568.tar.gz", "--database-format", "json")
    assert_same_content(sqlite_source, target)


@pytest.mark.postgres
def test_postgres_round_trip_pg_dump(postgres_source, postgres_admin, tmp_path):
    target = {"DATABASE_URL": postgres_admin(), "SARABAN_STORAGE": str(tmp_path / "originals")}
    backup_and_restore(postgres_source, target, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["format"] == "pg_dump"
    assert_same_content(postgres_source, target)


@pytest.mark.postgres
def test_postgres_json_round_trip(postgres_source, postgres_admin, tmp_path):
    target = {"DATABASE_URL": postgres_admin(), "SARABAN_STORAGE": str(tmp_path / "originals")}
    backup_and_restore(postgres_source, target, tmp_path / "backup.tar", "--database-format", "json")
    assert_same_content(postgres_source, target)


@pytest.mark.postgres
def test_postgres_json_restore_continues_ids(postgres_source, postgres_admin, tmp_path):
    target = {"DATABASE_URL": postgres_admin(), "SARABAN_STORAGE": str(tmp_path / "originals")}
    backup_and_restore(postgres_source, target, tmp_path / "backup", "--database-format", "json")
    letter = tmp_path / "ใหม่.txt"
    letter.write_text("เรื่อง ขอเชิญประชุม\nเรียน นายอำเภอแม่สาย\n", encoding="utf-8")
    proc = saraban(target, "ingest", str(letter))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["document_id"] == 4


def in_utc(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Give every datetime the UTC zone: SQLite returns the stored UTC times without one."""
    def normalize(value):
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value.astimezone(datetime.timezone.utc)
        return value

    return {table: [tuple(normalize(value) for value in row) for row in table_rows] for table, table_rows in rows.items()}


@pytest.mark.postgres
def test_sqlite_json_restores_into_postgres(sqlite_source, postgres_admin, tmp_path):
    target = {"DATABASE_URL": postgres_admin(), "SARABAN_STORAGE": str(tmp_path / "originals")}
    backup_and_restore(sqlite_source, target, tmp_path / "backup", "--database-format", "json")
    source_rows = in_utc(table_rows(sqlite_source["DATABASE_URL"]))
    target_rows = in_utc(table_rows(target["DATABASE_URL"]))
    assert sorted(target_rows) == sorted(source_rows)
    for table, rows in source_rows.items():
        assert target_rows[table] == rows, table
    assert stored_bytes(Path(target["SARABAN_STORAGE"])) == stored_bytes(Path(sqlite_source["SARABAN_STORAGE"]))


# --- refusals ---------------------------------------------------------------------------


def test_restore_refuses_database_with_rows(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    assert saraban(sqlite_source, "backup", str(dest)).returncode == 0
    target = {**sqlite_source, "SARABAN_STORAGE": str(tmp_path / "empty-originals")}
    before = table_rows(target["DATABASE_URL"])
    proc = saraban(target, "restore", str(dest))
    assert proc.returncode == 1
    assert "[restore_target_not_empty]" in proc.stderr
    assert "ฐานข้อมูลปลายทางมีข้อมูลอยู่แล้ว" in proc.stderr
    assert table_rows(target["DATABASE_URL"]) == before
    assert not Path(target["SARABAN_STORAGE"]).exists()


def test_restore_refuses_storage_with_files(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    assert saraban(sqlite_source, "backup", str(dest)).returncode == 0
    target = sqlite_env(tmp_path / "target")
    OriginalStore(target["SARABAN_STORAGE"]).put("หนังสือที่มีอยู่แล้ว".encode())
    proc = saraban(target, "restore", str(dest))
    assert proc.returncode == 1
    assert "โฟลเดอร์เก็บต้นฉบับ" in proc.stderr
    assert not (tmp_path / "target" / "saraban.db").exists()


def test_restore_refuses_damaged_original(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    assert saraban(sqlite_source, "backup", str(dest)).returncode == 0
    original = sorted((dest / "originals").rglob("*"))[-1]
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))
    target = sqlite_env(tmp_path / "target")
    proc = saraban(target, "restore", str(dest))
    assert proc.returncode == 1
    assert "[backup_damaged]" in proc.stderr
    assert "SHA-256" in proc.stderr
    assert not (tmp_path / "target").exists()


def test_restore_refuses_missing_database_file(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    assert saraban(sqlite_source, "backup", str(dest)).returncode == 0
    (dest / "database.sqlite3").unlink()
    proc = saraban(sqlite_env(tmp_path / "target"), "restore", str(dest))
    assert proc.returncode == 1
    assert "ไม่พบไฟล์ database.sqlite3" in proc.stderr


def test_backup_refuses_folder_with_files(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "บันทึก.txt").write_text("สำรองเมื่อวาน", encoding="utf-8")
    proc = saraban(sqlite_source, "backup", str(dest))
    assert proc.returncode == 1
    assert "[backup_target_exists]" in proc.stderr
    assert sorted(path.name for path in dest.iterdir()) == ["บันทึก.txt"]


def test_restore_cannot_cross_database_kinds(sqlite_source, tmp_path):
    dest = tmp_path / "backup"
    assert saraban(sqlite_source, "backup", str(dest)).returncode == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    with pytest.raises(backup.BackupError) as raised:
        backup._restore_database(dest / manifest["database"]["file"], "pg_dump", "0200", f"sqlite:///{tmp_path / 'x.db'}")
    assert raised.value.code == "backup_database_mismatch"


# --- online copy ------------------------------------------------------------------------


def test_backup_while_uploading_is_consistent(tmp_path):
    """Upload letters from a second thread while backing up; every backed-up document has its original."""
    from workflow import operations
    from workflow.app import create_app

    source = sqlite_env(tmp_path / "source")
    upgrade_to_head(source["DATABASE_URL"])
    app = create_app({"DATABASE_URL": source["DATABASE_URL"], "SARABAN_STORAGE": source["SARABAN_STORAGE"],
                      "REDIS_URL": None, "SECRET_KEY": "test-secret"})
    store = app.extensions["saraban.store"]
    stop = threading.Event()
    some_stored = threading.Event()

    def upload() -> None:
        session = app.extensions["saraban.db"].session()
        number = 0
        while not stop.is_set() and number < 500:
            number += 1
            data = f"ที่ ชร ๐๐๒๓.๖/ว {number}\nเรื่อง ขอเชิญประชุม ครั้งที่ {number}\n".encode()
            operations.ingest_upload(session, store, data, f"หนังสือ-{number}.txt", None, 1024 * 1024)
            if number == 20:
                some_stored.set()
        session.close()

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert some_stored.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    try:
        backup.create_backup(source["DATABASE_URL"], source["SARABAN_STORAGE"], tmp_path / "backup")
    finally:
        stop.set()
        uploader.join()
        app.extensions["saraban.db"].dispose()
    target = sqlite_env(tmp_path / "target")
    backup.restore_backup(tmp_path / "backup", target["DATABASE_URL"], target["SARABAN_STORAGE"])
    restored = OriginalStore(target["SARABAN_STORAGE"])
    engine = create_engine(target["DATABASE_URL"])
    with engine.connect() as connection:
        digests = list(connection.scalars(text("SELECT sha256 FROM documents")))
    engine.dispose()
    assert digests
    assert [digest for digest in digests if not restored.exists(digest)] == []
