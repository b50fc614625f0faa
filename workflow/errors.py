"""Typed errors a user can cause, each with a Thai message for the screen and an English one for the log."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base class: `code` is a stable snake_case id, `message_th` is shown, `message_en` is logged."""

    http_status = 400

    def __init__(self, code: str, message_th: str, message_en: str):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_th = message_th
        self.message_en = message_en

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message_th, "message_en": self.message_en}


class UploadRejected(WorkflowError):
    """An upload that is not stored at all (empty, or over the size limit)."""

    http_status = 400


class RequestTooLarge(WorkflowError):
    """A request body over the app's MAX_CONTENT_LENGTH, rejected before any file is read."""

    http_status = 413


class NotFound(WorkflowError):
    http_status = 404


class PermissionDenied(WorkflowError):
    http_status = 403


class InvalidValue(WorkflowError):
    """A corrected value that does not fit the field."""

    http_status = 400


class JobStateError(WorkflowError):
    """A job asked to run when it is not waiting in the queue."""

    http_status = 409


class AuthenticationFailed(WorkflowError):
    http_status = 401
