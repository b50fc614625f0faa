"""Helpers for tests of the routing package: databases with the directory loaded, and users.

Each database is migrated to head and loaded with the directory once. `reset` then empties
every table except the directory, so that one test does not see another's rows.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from workflow.db import Database, upgrade_to_head
from workflow.directory import load_directory
from workflow.models import Base, Organization, User
# Importing the routing models registers their tables on Base.metadata, which `reset` empties.
from workflow.routing import models as _routing_models  # noqa: F401
from workflow.routing.admin import get_organization
from workflow.routing.models import StaffPosition

# PostgreSQL for tests: the `test` database on loopback, trust authentication.
POSTGRES_TEST_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
# A placeholder hash: test users never sign in, and hashing a real password is slow.
UNUSABLE_PASSWORD_HASH = "!"


def postgres_reachable(url: str = POSTGRES_TEST_URL) -> str | None:
    """Return None when PostgreSQL accepts a connection at `url`, else the reason it does not."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the server is unusable for the tests
        return f"{type(error).__name__}: {error}"
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_schema_url(base_url: str = POSTGRES_TEST_URL) -> Iterator[str]:
    """Create a schema of its own for this run and yield a URL whose search_path is that schema; drop it afterwards."""
    schema = f"routing_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def prepare_database(url: str) -> Database:
    """Migrate the database at `url` to head and load the directory into it."""
    upgrade_to_head(url)
    database = Database(url)
    session = database.session()
    try:
        load_directory(session)
    finally:
        session.close()
    return database


def reset(database: Database) -> None:
    """Delete every row except the organization directory."""
    tables = [table for table in reversed(Base.metadata.sorted_tables) if table.name != Organization.__tablename__]
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            # CASCADE also empties tables of models this process has not imported that reference these.
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(delete(table))


def make_user(session: Session, username: str, org_code: str, role: str, position_th: str | None = None,
              display_name: str | None = None) -> User:
    """Insert a user directly, without a usable password, and commit."""
    organization = get_organization(session, org_code)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=UNUSABLE_PASSWORD_HASH,
        organization=organization,
        role=role,
    )
    session.add(user)
    session.flush()
    if position_th:
        session.add(StaffPosition(user_id=user.id, position_th=position_th))
    session.commit()
    return user


STAFF = (
    # key, organization code, role, position
    ("dla_clerk", "DLA", "clerk", None),
    ("dla_head", "DLA", "supervisor", "ผู้อำนวยการกองส่งเสริมและพัฒนาการจัดการสิ่งแวดล้อมท้องถิ่น"),
    ("cr_clerk", "PROV-57", "clerk", None),
    ("cr_head", "PROV-57", "supervisor", "ท้องถิ่นจังหวัดเชียงราย"),
    ("cr_officer", "PROV-57", "officer", None),
    ("ms_clerk", "DIST-5709", "clerk", None),
    ("ms_head", "DIST-5709", "supervisor", "ท้องถิ่นอำเภอแม่สาย"),
    ("pk_head", "PROV-83", "supervisor", "ท้องถิ่นจังหวัดภูเก็ต"),
    ("pk_clerk", "PROV-83", "clerk", None),
    ("lao_clerk", "5570901", "clerk", None),
    ("lao_officer", "5570901", "officer", None),
    ("lao_officer2", "5570901", "officer", None),
    ("lao_exec", "5570901", "supervisor", "นายกเทศมนตรีตำบลแม่สาย"),
    ("other_lao_officer", "5570902", "officer", None),
    ("admin", "DLA", "admin", None),
)


class Staff(dict):
    """Users of the test chain by key: `staff.cr_head` is the Chiang Rai provincial office's supervisor."""

    __getattr__ = dict.__getitem__


def make_staff(session: Session) -> Staff:
    """Create one user per row of STAFF and return them by key."""
    return Staff({key: make_user(session, f"t.{key}", org, role, position) for key, org, role, position in STAFF})
