"""Idempotency keys: a retried call returns what the first call returned and posts nothing again.

The key row is inserted before the operation does its work, in the same transaction. A
second call with the same key waits on that row (PostgreSQL's unique index; SQLite's write
lock), then finds the committed key and replays its result. The SHA-256 of the request is
stored with the key, so the same key with a different request is rejected.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Callable, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.ledger.chain import canonical_json
from workflow.ledger.errors import IdempotencyConflict, InvalidValue
from workflow.ledger.models import Account, IdempotencyKey, LedgerRequest, utcnow
from workflow.routing.numbering import write_transaction

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 100
T = TypeVar("T", LedgerRequest, Account)
RESULT_TYPES = {"request": LedgerRequest, "account": Account}


def request_hash(operation: str, actor_id: int | None, request: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json([operation, actor_id, request]).encode("utf-8")).hexdigest()


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidValue(
            "invalid_idempotency_key",
            f"รหัสป้องกันการทำรายการซ้ำต้องเป็นข้อความ 1-{MAX_KEY_LENGTH} ตัวอักษร",
            f"the idempotency key must be a string of 1-{MAX_KEY_LENGTH} characters, got {key!r}",
        )
    return key.strip()


def _replay(session: Session, row: IdempotencyKey, operation: str, digest: str) -> Any:
    if row.operation != operation or row.request_hash != digest:
        raise IdempotencyConflict(
            "idempotency_key_reused",
            "รหัสป้องกันการทำรายการซ้ำนี้ใช้กับคำขออื่นไปแล้ว กรุณาใช้รหัสใหม่",
            f"idempotency key {row.key!r} was used for a different {row.operation} request",
        )
    log.info("idempotency key %s replayed for %s", row.key, operation)
    return session.get(RESULT_TYPES[row.result["type"]], row.result["id"])


def run_idempotent(
    session: Session, key: str, operation: str, actor_id: int | None, request: dict[str, Any],
    work: Callable[[], T],
) -> T:
    """Run `work` as one write transaction under `key`, or return the result of an earlier call with that key."""
    key = _check_key(key)
    digest = request_hash(operation, actor_id, request)
    for attempt in range(2):
        try:
            with write_transaction(session):
                existing = session.get(IdempotencyKey, key, populate_existing=True)
                if existing is not None:
                    return _replay(session, existing, operation, digest)
                row = IdempotencyKey(key=key, operation=operation, request_hash=digest, created_at=utcnow())
                session.add(row)
                session.flush()
                result = work()
                row.result = {"type": "request" if isinstance(result, LedgerRequest) else "account", "id": result.id}
                return result
        except IntegrityError:
            # Another call with the same key committed first: replay it. Any other
            # constraint failure has no key row behind it and is raised.
            with write_transaction(session):
                if attempt or session.get(IdempotencyKey, key, populate_existing=True) is None:
                    raise
    raise AssertionError("unreachable")
