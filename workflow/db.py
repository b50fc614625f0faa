"""Engine, sessions and schema upgrades."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from workflow.config import PROJECT_ROOT

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def _prepare_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _enable_sqlite_concurrency(engine: Engine) -> None:
    """Let the web thread read while the worker thread writes, and enforce foreign keys."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, creating the folder of a SQLite file on demand."""
    _prepare_sqlite_folder(url)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _enable_sqlite_concurrency(engine)
    return engine


class Database:
    """An engine and its session factory, made safe to use after a worker process forks."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._pid = os.getpid()

    def session(self) -> Session:
        if os.getpid() != self._pid:
            # A forked child must not reuse the parent's pooled connections.
            self.engine.dispose(close=False)
            self._pid = os.getpid()
        return self._session_factory()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if the block raises."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; a password may contain one.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    """Create or upgrade the schema at `url` to the newest Alembic revision."""
    _prepare_sqlite_folder(url)
    log.info("upgrading database schema to head: %s", make_url(url).render_as_string(hide_password=True))
    command.upgrade(alembic_config(url), "head")
