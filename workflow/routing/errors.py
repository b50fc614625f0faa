"""Typed errors of the routing operations; each carries a Thai message for the screen and an English one for the log."""

from __future__ import annotations

from workflow.errors import InvalidValue, NotFound, PermissionDenied, WorkflowError

__all__ = ["InvalidValue", "NotFound", "PermissionDenied", "StateConflict", "WorkflowError"]


class StateConflict(WorkflowError):
    """An operation that does not fit the task's or letter's current state, e.g. approving twice."""

    http_status = 409
