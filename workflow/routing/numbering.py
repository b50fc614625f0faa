"""Gapless running numbers of an office's registers, one sequence per calendar year.

A number is taken inside the caller's transaction: if that transaction rolls back, the
counter rolls back with it, so no number is skipped and none is handed out twice. On
PostgreSQL the counter row is locked with SELECT ... FOR UPDATE; on SQLite the whole
operation runs in a write transaction (`BEGIN IMMEDIATE`, see `write_transaction`).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.routing.models import RegisterCounter

log = logging.getLogger(__name__)


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run one operation as one transaction, taking SQLite's write lock before its first read.

    pysqlite runs a SELECT outside any transaction until the first INSERT or UPDATE, so
    without `BEGIN IMMEDIATE` two clerks could both read a task's state and both act on it.
    With it, operations on one SQLite file run one after another (each waits up to the
    busy timeout). PostgreSQL needs nothing here: rows are locked where they are read.
    """
    with transaction(session):
        if session.get_bind().dialect.name == "sqlite":
            driver_connection = session.connection().connection.driver_connection
            if not driver_connection.in_transaction:
                driver_connection.execute("BEGIN IMMEDIATE")
        yield session


def _ensure_counter_row(session: Session, organization_id: int, register: str, year: int, start: int = 1) -> None:
    dialect = session.get_bind().dialect.name
    values = {"organization_id": organization_id, "register": register, "year": year, "next_number": start}
    if dialect == "postgresql":
        statement = pg_insert(RegisterCounter).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(RegisterCounter).values(**values).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"register counters are not implemented for {dialect}")
    session.execute(statement)


def lock_register(session: Session, organization_id: int, register: str, year: int) -> int:
    """Lock the register's counter row until the transaction ends and return its next number.

    An operation that must check something before it takes a number (has this office
    registered this letter already?) locks first, so that a second clerk waits and then
    reads the first one's committed row.
    """
    _ensure_counter_row(session, organization_id, register, year)
    return session.scalar(
        select(RegisterCounter.next_number)
        .where(
            RegisterCounter.organization_id == organization_id,
            RegisterCounter.register == register,
            RegisterCounter.year == year,
        )
        .with_for_update()
    )


def take_number(session: Session, organization_id: int, register: str, year: int) -> int:
    """Return the next number of the register and advance it, within the caller's transaction."""
    current = lock_register(session, organization_id, register, year)
    session.execute(
        update(RegisterCounter)
        .where(
            RegisterCounter.organization_id == organization_id,
            RegisterCounter.register == register,
            RegisterCounter.year == year,
        )
        .values(next_number=current + 1)
    )
    log.debug("org %s register %s %s: took number %s", organization_id, register, year, current)
    return current


def peek_number(session: Session, organization_id: int, register: str, year: int) -> int:
    """Return the number the register would hand out next, without taking it."""
    current = session.scalar(
        select(RegisterCounter.next_number).where(
            RegisterCounter.organization_id == organization_id,
            RegisterCounter.register == register,
            RegisterCounter.year == year,
        )
    )
    return current if current is not None else 1
