"""JSON forms of stored values in `/api/v1` responses."""

from __future__ import annotations

from datetime import date, datetime, timezone


def moment(value: datetime | None) -> str | None:
    """Return an RFC 3339 date-time with its offset.

    SQLite gives back stored moments without a time zone. They were stored in UTC (see
    `workflow.models.utcnow`), so a naive value is marked as UTC.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
