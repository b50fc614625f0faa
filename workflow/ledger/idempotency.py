"""Idempotency keys: a retried call returns what the first call returned and posts nothing again.

The key row is inserted before the operation does its work, in the same transaction. A
second call with the same key waits on that row (PostgreSQL's unique index; SQLite's write
lock), then finds the committed key and replays its result. The SHA-256 of the request is
stored with the key, so the same key with a different request is rejected.

Concurrent postings lock requests, accounts and serial blocks as they go, so PostgreSQL can
abort one of two transactions as a deadlock victim. Such a transaction changed nothing and
is run again (`run_idempotent`).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from typing import Any, Callable, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from workflow.ledger.chain import canonical_json
from workflow.ledger.errors import IdempotencyConflict, InvalidValue
from workflow.ledger.models import Account, IdempotencyKey, LedgerRequest, utcnow
from workflow.routing.numbering import write_transaction

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 100
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back and may run again.
RETRYABLE_SQLSTATES = ("40P01", "40001")
MAX_ATTEMPTS = 10
# Upper bound of the random pause before the second attempt, in seconds; it doubles with each
# attempt after that, up to RETRY_PAUSE_MAX_S.
RETRY_PAUSE_S = 0.02
RETRY_PAUSE_MAX_S = 1.0
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


def _retryable_code(error: DBAPIError) -> str | None:
    """Return the SQLSTATE of a deadlock or serialization failure, after which the whole transaction can run again."""
    code = getattr(error.orig, "sqlstate", None)
    return code if code in RETRYABLE_SQLSTATES else None


def run_idempotent(
    session: Session, key: str, operation: str, actor_id: int | None, request: dict[str, Any],
    work: Callable[[], T],
) -> T:
    """Run `work` as one write transaction under `key`, or return the result of an earlier call with that key.

    A transaction that PostgreSQL aborts as a deadlock victim or a serialization failure is
    rolled back and run again from the start, at most MAX_ATTEMPTS times in all.
    """
    key = _check_key(key)
    digest = request_hash(operation, actor_id, request)
    key_conflicts = 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
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
                if key_conflicts or session.get(IdempotencyKey, key, populate_existing=True) is None:
                    raise
            key_conflicts += 1
        except DBAPIError as error:
            code = _retryable_code(error)
            if code is None or attempt == MAX_ATTEMPTS:
                raise
            log.warning("ledger %s under idempotency key %s was aborted by the database (SQLSTATE %s);"
                        " running it again, attempt %d of %d", operation, key, code, attempt + 1, MAX_ATTEMPTS)
            # A random pause, growing with each attempt, so that the two sides of a deadlock do not meet again.
            time.sleep(random.uniform(0, min(RETRY_PAUSE_MAX_S, RETRY_PAUSE_S * 2 ** (attempt - 1))))
    raise AssertionError("unreachable")
