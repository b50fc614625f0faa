"""The append-only, hash-chained event log of approvals and postings.

An operation collects its events with `append_event` while it works, and they are written
when its transaction commits: a `before_commit` hook locks the single `ledger_chain_head` row
(SELECT ... FOR UPDATE on PostgreSQL, the write transaction's lock on SQLite), numbers the
events, hashes each after the one before it, inserts them and advances the head. On
PostgreSQL that is one statement, so the head lock is held for it and the commit, not while
the operation checks, reads and locks accounts and serial blocks. Events get a gapless
sequence number in commit order, and each one names the hash of the one before it.

What the head lock no longer serializes is guarded by row locks where the rows are read:
the request row, the accounts a posting moves units from or to (locked in code order),
their serial blocks, and the idempotency key's unique index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from workflow.ledger.models import ChainHead, LedgerEvent

GENESIS_HASH = "0" * 64
HEAD_ROW_ID = 1
# session.info key of the events waiting for the commit.
_PENDING_KEY = "ledger_pending_events"
# The last key of an event body in sorted order; `_finish_body` inserts "sequence" before it.
_LAST_KEY = ',"transaction":'


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Serialize `value` with sorted keys, no spaces and unescaped Thai, so equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def event_hash(previous_hash: str, body: str) -> str:
    return hashlib.sha256((previous_hash + body).encode("utf-8")).hexdigest()


@dataclass
class PendingEvents:
    """The events one root transaction has appended and not yet written, in append order.

    `lock_head` returns it as the `head` that `append_event` takes.
    """

    transaction: SessionTransaction
    events: list[tuple[LedgerEvent, str]] = field(default_factory=list)
    locked: bool = False


def _pending(session: Session) -> PendingEvents:
    """Return the pending events of the session's current root transaction, starting a new list for a new one."""
    transaction = session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    pending = session.info.get(_PENDING_KEY)
    if pending is None or pending.transaction is not transaction:
        # A list left by a transaction that rolled back is dropped with it.
        pending = PendingEvents(transaction)
        session.info[_PENDING_KEY] = pending
    return pending


def _lock_head_row(session: Session) -> ChainHead:
    """Lock the chain head row until the transaction ends, creating it on an empty log."""
    dialect = session.get_bind().dialect.name
    values = {"id": HEAD_ROW_ID, "last_event_id": 0, "last_hash": GENESIS_HASH}
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ChainHead).values(**values).on_conflict_do_nothing())
    return session.scalar(
        select(ChainHead).where(ChainHead.id == HEAD_ROW_ID).with_for_update().execution_options(populate_existing=True)
    )


def lock_head(session: Session) -> PendingEvents:
    """Return the handle that `append_event` takes; the head row itself is locked at commit.

    On an empty log the row is locked at once, so that the first operations, which also open
    the system accounts, run one after another.
    """
    pending = _pending(session)
    last = session.scalar(select(ChainHead.last_event_id).where(ChainHead.id == HEAD_ROW_ID))
    if not last:
        lock_now(session)
    return pending


def lock_now(session: Session) -> None:
    """Lock the chain head row now, so that every other ledger write waits until this transaction ends.

    For a check that no row lock covers, such as "no other open request registers this buyer".
    """
    pending = _pending(session)
    if not pending.locked:
        _lock_head_row(session)
        pending.locked = True


def append_event(
    session: Session,
    head: PendingEvents,
    kind: str,
    occurred_at: datetime,
    data: dict[str, Any],
    *,
    actor_id: int | None = None,
    request_id: int | None = None,
    transaction_id: int | None = None,
) -> LedgerEvent:
    """Queue one event to be chained when the transaction commits, and return it.

    The body is serialized now, outside the head lock, so later changes to `data` do not
    change it. The returned event gets its id, sequence and hash only at commit.
    """
    partial = canonical_json({
        "kind": kind,
        "at": occurred_at,
        "actor": actor_id,
        "request": request_id,
        "transaction": transaction_id,
        "data": data,
    })
    event_row = LedgerEvent(kind=kind, request_id=request_id, transaction_id=transaction_id, actor_id=actor_id,
                            occurred_at=occurred_at)
    _pending(session).events.append((event_row, partial))
    return event_row


def _finish_body(partial: str, sequence: int) -> str:
    """Insert the sequence number into a body serialized without it, giving `canonical_json` of the whole.

    In sorted order "sequence" comes just before "transaction", the last key, whose value is
    a number or null, so the last occurrence of that key is the top-level one.
    """
    before, separator, after = partial.rpartition(_LAST_KEY)
    return f'{before},"sequence":{sequence}{separator}{after}'


# One statement that chains and inserts the queued events and advances the head, so that
# the head row stays locked for one round trip and the commit. PostgreSQL's sha256() and
# convert_to(..., 'UTF8') give the same digest as `event_hash`, and verify recomputes it.
_APPEND_SQL = text("""
WITH RECURSIVE
head AS (
    SELECT last_event_id, last_hash FROM ledger_chain_head WHERE id = :head_id FOR UPDATE
),
pending AS (
    SELECT * FROM unnest(
        CAST(:befores AS text[]), CAST(:afters AS text[]), CAST(:kinds AS text[]), CAST(:request_ids AS integer[]),
        CAST(:transaction_ids AS integer[]), CAST(:actor_ids AS integer[]), CAST(:occurred_ats AS timestamptz[])
    ) WITH ORDINALITY AS item(body_before, body_after, kind, request_id, transaction_id, actor_id, occurred_at, n)
),
chained(n, sequence, body, previous_hash, hash) AS (
    SELECT CAST(0 AS bigint), last_event_id, CAST(NULL AS text), CAST(NULL AS text), CAST(last_hash AS text) FROM head
    UNION ALL
    SELECT item.n, chained.sequence + 1, numbered.body, chained.hash,
           encode(sha256(convert_to(chained.hash || numbered.body, 'UTF8')), 'hex')
    FROM chained
    JOIN pending AS item ON item.n = chained.n + 1
    CROSS JOIN LATERAL (
        SELECT item.body_before || ',"sequence":' || (chained.sequence + 1) || item.body_after AS body
    ) AS numbered
),
inserted AS (
    INSERT INTO ledger_events (kind, request_id, transaction_id, actor_id, occurred_at, body, previous_hash, hash)
    SELECT item.kind, item.request_id, item.transaction_id, item.actor_id, item.occurred_at,
           chained.body, chained.previous_hash, chained.hash
    FROM chained JOIN pending AS item ON item.n = chained.n
    ORDER BY chained.n
    RETURNING id, hash
),
advanced AS (
    UPDATE ledger_chain_head
    SET last_event_id = (SELECT max(sequence) FROM chained),
        last_hash = (SELECT hash FROM chained ORDER BY n DESC LIMIT 1)
    WHERE id = :head_id
)
SELECT chained.n, chained.body, chained.previous_hash, chained.hash, inserted.id
FROM chained JOIN inserted ON inserted.hash = chained.hash
ORDER BY chained.n
""")


def _append_postgresql(session: Session, events: list[tuple[LedgerEvent, str]]) -> None:
    befores, afters = [], []
    for _event_row, partial in events:
        before, separator, after = partial.rpartition(_LAST_KEY)
        befores.append(before)
        afters.append(separator + after)
    rows = session.execute(_APPEND_SQL, {
        "head_id": HEAD_ROW_ID,
        "befores": befores,
        "afters": afters,
        "kinds": [event_row.kind for event_row, _ in events],
        "request_ids": [event_row.request_id for event_row, _ in events],
        "transaction_ids": [event_row.transaction_id for event_row, _ in events],
        "actor_ids": [event_row.actor_id for event_row, _ in events],
        "occurred_ats": [event_row.occurred_at for event_row, _ in events],
    }).all()
    if len(rows) != len(events):
        raise RuntimeError(f"chained {len(rows)} of {len(events)} ledger events: the chain head row is missing")
    for (event_row, _partial), (_n, body, previous_hash, hash_value, event_id) in zip(events, rows):
        event_row.id, event_row.body, event_row.previous_hash, event_row.hash = event_id, body, previous_hash, hash_value


def _append_orm(session: Session, events: list[tuple[LedgerEvent, str]]) -> None:
    head = _lock_head_row(session)
    sequence, previous = head.last_event_id, head.last_hash
    rows = []
    for event_row, partial in events:
        sequence += 1
        event_row.body = _finish_body(partial, sequence)
        event_row.previous_hash = previous
        event_row.hash = previous = event_hash(previous, event_row.body)
        rows.append(event_row)
    session.add_all(rows)
    head.last_event_id = sequence
    head.last_hash = previous
    session.flush()


def write_pending(session: Session) -> int:
    """Chain and insert the queued events of the current transaction under the head lock; return how many.

    Runs from the `before_commit` hook, so a caller need not call it.
    """
    pending = session.info.get(_PENDING_KEY)
    if pending is None or pending.transaction is not session.get_transaction() or not pending.events:
        return 0
    # The events refer to requests, transactions and accounts added in this transaction.
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _append_postgresql(session, pending.events)
    else:
        # SQLite runs each write transaction alone (BEGIN IMMEDIATE), so the lock costs nothing more here.
        _append_orm(session, pending.events)
    pending.locked = True
    count = len(pending.events)
    pending.events = []
    return count


@event.listens_for(Session, "before_commit")
def _write_pending_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    write_pending(session)


@event.listens_for(Session, "after_rollback")
def _drop_pending_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
