"""Typed errors of the ledger operations, each with a Thai message for the screen and an English one for the log."""

from __future__ import annotations

from workflow.errors import InvalidValue, NotFound, PermissionDenied, WorkflowError

__all__ = [
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidValue",
    "NotFound",
    "PermissionDenied",
    "RequestStateError",
    "WorkflowError",
]


class RequestStateError(WorkflowError):
    """An approval step that does not fit the request's state, e.g. approving a voided request."""

    http_status = 409


class InsufficientCredits(WorkflowError):
    """An operation that would take more units than the account holds."""

    http_status = 409


class IdempotencyConflict(WorkflowError):
    """An idempotency key reused with a different request."""

    http_status = 409
