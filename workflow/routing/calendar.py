"""Working days: weekends, Thailand's official holidays and the days the cabinet declares.

The official holidays come from the `holidays` package (`holidays.Thailand`, which includes
substitution days such as `Songkran Festival (in lieu)`). The declared days come from the
`declared_holidays` table, which an admin fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.routing.models import DeclaredHoliday

BANGKOK = ZoneInfo("Asia/Bangkok")
SATURDAY = 5
# Upper bound for any walk over the calendar; a year has far fewer consecutive days off.
MAX_DAYS_SCANNED = 366


def today_in_thailand(now: datetime | None = None) -> date:
    """Return the date in Bangkok at `now` (default: the current time)."""
    moment = now or datetime.now(BANGKOK)
    if moment.tzinfo is None:
        raise ValueError("today_in_thailand needs an aware datetime")
    return moment.astimezone(BANGKOK).date()


@dataclass
class WorkingCalendar:
    """Decides whether a day is a working day and counts working days."""

    declared: dict[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._official = holidays.Thailand(language="th")

    def holiday_name(self, day: date) -> str | None:
        """Return the Thai name of the holiday on `day`, or None when it is not one."""
        if day in self.declared:
            return self.declared[day]
        return self._official.get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and self.holiday_name(day) is None

    def next_working_day(self, day: date) -> date:
        """Return `day` itself when it is a working day, else the first working day after it."""
        for offset in range(MAX_DAYS_SCANNED):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_DAYS_SCANNED} days after {day}")

    def add_working_days(self, day: date, count: int) -> date:
        """Return the `count`-th working day after `day`; `day` itself is not counted.

        A negative `count` counts backwards. `count` 0 returns `day` unchanged.
        """
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        current = day
        scanned = 0
        while remaining:
            current += timedelta(days=step)
            scanned += 1
            if scanned > MAX_DAYS_SCANNED * max(1, abs(count)):
                raise ValueError(f"could not count {count} working days from {day}")
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after `start` up to and including `end` (negative when `end` is earlier)."""
        if end == start:
            return 0
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )

    def effective_due(self, nominal: date) -> date:
        """Return the date a person ordered to act has: the next working day when `nominal` is a day off.

        This follows the Administrative Procedure Act s.64 for someone ordered to act; an
        authority counting a period on its own keeps `nominal`.
        """
        return self.next_working_day(nominal)

    def due_after_receipt(self, received_on: date, days: int, working_days: bool) -> date:
        """Return the nominal due date of `ภายใน N (วันทำการ) นับแต่วันที่ได้รับหนังสือ`.

        The day of receipt is not counted (Civil and Commercial Code s.193/3), so N calendar
        days end on receipt + N, and N working days end on the N-th working day after receipt.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        if working_days:
            return self.add_working_days(received_on, days)
        return received_on + timedelta(days=days)


def load_calendar(session: Session) -> WorkingCalendar:
    """Build a calendar with the official holidays and every declared day in the database."""
    rows = session.execute(select(DeclaredHoliday.day, DeclaredHoliday.name_th))
    return WorkingCalendar(declared={day: name for day, name in rows})
