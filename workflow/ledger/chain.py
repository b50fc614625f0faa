"""The append-only, hash-chained event log of approvals and postings.

Every writer locks the single `ledger_chain_head` row (SELECT ... FOR UPDATE on PostgreSQL,
the write transaction's lock on SQLite) before it appends, so events get a gapless
sequence number and each one names the hash of the one before it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.ledger.models import ChainHead, LedgerEvent

GENESIS_HASH = "0" * 64
HEAD_ROW_ID = 1


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Serialize `value` with sorted keys, no spaces and unescaped Thai, so equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def event_hash(previous_hash: str, body: str) -> str:
    return hashlib.sha256((previous_hash + body).encode("utf-8")).hexdigest()


def lock_head(session: Session) -> ChainHead:
    """Lock the chain head row until the transaction ends, creating it on an empty log."""
    dialect = session.get_bind().dialect.name
    values = {"id": HEAD_ROW_ID, "last_event_id": 0, "last_hash": GENESIS_HASH}
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ChainHead).values(**values).on_conflict_do_nothing())
    return session.scalar(
        select(ChainHead).where(ChainHead.id == HEAD_ROW_ID).with_for_update().execution_options(populate_existing=True)
    )


def append_event(
    session: Session,
    head: ChainHead,
    kind: str,
    occurred_at: datetime,
    data: dict[str, Any],
    *,
    actor_id: int | None = None,
    request_id: int | None = None,
    transaction_id: int | None = None,
) -> LedgerEvent:
    """Append one event after `head`, which the caller locked with `lock_head`, and advance the head."""
    sequence = head.last_event_id + 1
    body = canonical_json({
        "sequence": sequence,
        "kind": kind,
        "at": occurred_at,
        "actor": actor_id,
        "request": request_id,
        "transaction": transaction_id,
        "data": data,
    })
    event = LedgerEvent(
        kind=kind,
        request_id=request_id,
        transaction_id=transaction_id,
        actor_id=actor_id,
        occurred_at=occurred_at,
        body=body,
        previous_hash=head.last_hash,
        hash=event_hash(head.last_hash, body),
    )
    session.add(event)
    head.last_event_id = sequence
    head.last_hash = event.hash
    session.flush()
    return event
