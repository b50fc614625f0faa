"""Fixtures for the service tests: a fresh database on SQLite and on PostgreSQL, an app, users.

PostgreSQL and Redis are the real servers on 127.0.0.1; a test that needs one that cannot
be reached is skipped with the reason. SARABAN_TEST_POSTGRES and SARABAN_TEST_REDIS
override their addresses.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflow import operations
from workflow.app import create_app
from workflow.db import upgrade_to_head
from workflow.models import (
    ORG_DEPARTMENT,
    ORG_DISTRICT_OFFICE,
    ORG_LAO,
    ORG_PROVINCE_OFFICE,
    Base,
    Organization,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT_ROOT / "samples"
POSTGRES_ADMIN_URL = os.environ.get(
    "SARABAN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SARABAN_TEST_REDIS", "redis://127.0.0.1:6379/0")
TEST_PASSWORD = "รหัสทดสอบ-2568"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Hash test passwords with few PBKDF2 rounds; sign-in still checks them the same way."""
    monkeypatch.setattr(operations, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture(scope="session")
def postgres_database_url():
    """Create a database of its own for this test run, upgraded to head; drop it afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the server is unusable here
        admin.dispose()
        pytest.skip(f"PostgreSQL at {make_url(POSTGRES_ADMIN_URL).render_as_string()} is unreachable: {error}")
    name = f"saraban_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A migrated, empty database: a new SQLite file, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'saraban.db'}"
        upgrade_to_head(url)
        return url
    url = request.getfixturevalue("postgres_database_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def app(database_url, tmp_path):
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SARABAN_STORAGE": str(tmp_path / "originals"),
            "SARABAN_MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret",
        }
    )
    yield application
    application.extensions["saraban.db"].dispose()


@pytest.fixture
def session(app):
    # No app context stays pushed here: test-client requests must get contexts of their own.
    db_session = app.extensions["saraban.db"].session()
    yield db_session
    db_session.close()


@pytest.fixture
def store(app):
    return app.extensions["saraban.store"]


def add_offices(session) -> None:
    """Insert the few offices the tests use, with the same codes and parents as the directory."""
    dla = Organization(code="DLA", kind=ORG_DEPARTMENT, name_th="กรมส่งเสริมการปกครองท้องถิ่น")
    chiang_rai = Organization(
        code="PROV-57", kind=ORG_PROVINCE_OFFICE, province_code="57",
        name_th="สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย", parent=dla,
    )
    mae_sai = Organization(
        code="DIST-5709", kind=ORG_DISTRICT_OFFICE, province_code="57", district_code="5709",
        name_th="สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย", parent=chiang_rai,
    )
    chiang_saen = Organization(
        code="DIST-5707", kind=ORG_DISTRICT_OFFICE, province_code="57", district_code="5707",
        name_th="สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอเชียงแสน", parent=chiang_rai,
    )
    wiang_phang_kham = Organization(
        code="5570903", kind=ORG_LAO, lao_type="subdistrict_municipality", province_code="57",
        district_code="5709", name_th="เทศบาลตำบลเวียงพางคำ", parent=mae_sai,
    )
    session.add_all([dla, chiang_rai, mae_sai, chiang_saen, wiang_phang_kham])
    session.commit()


@pytest.fixture
def users(session):
    """A clerk, a supervisor and an officer of the Mae Sai district office's area, and a clerk elsewhere."""
    add_offices(session)
    return {
        "clerk": operations.create_user(session, "somsri", "นางสาวสมศรี ใจดี", TEST_PASSWORD, "DIST-5709", "clerk"),
        "supervisor": operations.create_user(
            session, "prasert", "นายประเสริฐ วงศ์คำ", TEST_PASSWORD, "DIST-5709", "supervisor"
        ),
        "officer": operations.create_user(session, "anucha", "นายอนุชา แสงทอง", TEST_PASSWORD, "5570903", "officer"),
        "other_clerk": operations.create_user(
            session, "malee", "นางมาลี ศรีสุข", TEST_PASSWORD, "DIST-5707", "clerk"
        ),
    }


@pytest.fixture(scope="session")
def redis_url():
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {error}")
    finally:
        connection.close()
    return REDIS_URL


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


PROVINCE_LETTER_TEXT = """ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐
ศาลากลางจังหวัดเชียงราย
ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐
๒ เมษายน ๒๕๖๘
เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น
เรียน นายอำเภอ ทุกอำเภอ
จังหวัดเชียงรายได้รับแจ้งจากกรมส่งเสริมการปกครองท้องถิ่นว่า เพื่อให้การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่นเป็นไปด้วยความเรียบร้อย จึงขอให้อำเภอพิจารณาดำเนินการ ดังนี้
๑. แจ้งองค์กรปกครองส่วนท้องถิ่นมอบหมายเจ้าหน้าที่ผู้รับผิดชอบ และรายงานรายชื่อผ่านทาง QR Code ภายในวันที่ ๑๑ เมษายน ๒๕๖๘
จึงเรียนมาเพื่อพิจารณาดำเนินการ
ขอแสดงความนับถือ
(นายธนศักดิ์ ใจใส)
รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน
ผู้ว่าราชการจังหวัดเชียงราย"""


def _span(text_: str, part: str) -> list[int]:
    start = text_.index(part)
    return [start, start + len(part)]


def province_letter() -> dict:
    """A LETTER of the parse result for the Chiang Rai provincial letter, with spans into its text."""
    body = PROVINCE_LETTER_TEXT
    subject = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
    return {
        "pages": [1, 1],
        "kind": "external",
        "urgency": None,
        "doc_number": {"text": "ชร 0023.6/ว 3200", "prefix": "ชร", "office": "0023.6", "circular": True, "serial": 3200},
        "issuer": "ศาลากลางจังหวัดเชียงราย",
        "date": "2025-04-02",
        "subject": subject,
        "addressee": "นายอำเภอ ทุกอำเภอ",
        "deadlines": [
            {"kind": "due", "date": "2025-04-11", "stated": "2025-04-11", "end": None, "days": None,
             "working_days": False, "counted_from": None, "text": "ภายในวันที่ ๑๑ เมษายน ๒๕๖๘", "action": 1}
        ],
        "signatory": {"name": "นายธนศักดิ์ ใจใส", "position": "รองผู้ว่าราชการจังหวัด", "capacity": "on_behalf",
                      "on_behalf_of": "ผู้ว่าราชการจังหวัดเชียงราย"},
        "warnings": [
            {"code": "low_confidence", "message": "อ่านชื่อผู้ลงนามจากภาพสแกน โปรดตรวจทาน", "field": "signatory"}
        ],
        "spans": {
            "doc_number": _span(body, "ชร ๐๐๒๓.๖/ว ๓๒๐๐"),
            "issuer": _span(body, "ศาลากลางจังหวัดเชียงราย"),
            "date": _span(body, "๒ เมษายน ๒๕๖๘"),
            "subject": _span(body, subject),
            "addressee": _span(body, "นายอำเภอ ทุกอำเภอ"),
            "signatory": _span(body, "นายธนศักดิ์ ใจใส"),
        },
        "text": body,
    }


@pytest.fixture
def stored_letter(session, store, users):
    """A document received by the Mae Sai district office, holding the Chiang Rai letter, parsed."""
    from workflow.models import JOB_DONE

    data = PROVINCE_LETTER_TEXT.encode("utf-8")
    ingested = operations.ingest_upload(session, store, data, "ชร-ว3200.txt", users["clerk"], 1024 * 1024)
    operations.add_letters(ingested.document, {"letters": [province_letter()]})
    ingested.job.status = JOB_DONE
    session.commit()
    return ingested.document.letters[0]
