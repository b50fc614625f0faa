"""Working days: weekends, Thailand's official holidays, declared days, and deadlines counted from receipt."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from workflow.routing.calendar import WorkingCalendar, today_in_thailand


@pytest.fixture(scope="module")
def calendar():
    return WorkingCalendar()


@pytest.mark.parametrize("day", [
    date(2025, 4, 7),   # Chakri Memorial Day in lieu (6 April fell on a Sunday)
    date(2025, 4, 14),  # Songkran
    date(2025, 4, 15),  # Songkran
    date(2025, 4, 16),  # Songkran in lieu
    date(2025, 4, 12),  # Saturday
    date(2025, 4, 13),  # Sunday and Songkran
])
def test_days_off_are_not_working_days(calendar, day):
    assert calendar.is_working_day(day) is False


def test_ordinary_weekday_is_working_day(calendar):
    assert calendar.is_working_day(date(2025, 4, 9)) is True


def test_holiday_name_in_thai(calendar):
    assert calendar.holiday_name(date(2025, 4, 14)) == "วันสงกรานต์"
    assert calendar.holiday_name(date(2025, 4, 9)) is None


def test_counting_back_skips_songkran(calendar):
    assert calendar.add_working_days(date(2025, 4, 18), -2) == date(2025, 4, 11)
    assert calendar.add_working_days(date(2025, 4, 11), -2) == date(2025, 4, 9)


def test_counting_forward_skips_songkran(calendar):
    assert calendar.add_working_days(date(2025, 4, 11), 1) == date(2025, 4, 17)
    assert calendar.add_working_days(date(2025, 4, 11), 0) == date(2025, 4, 11)


def test_effective_due_moves_to_next_working_day(calendar):
    assert calendar.effective_due(date(2025, 4, 12)) == date(2025, 4, 17)
    assert calendar.effective_due(date(2025, 4, 9)) == date(2025, 4, 9)


def test_receipt_day_is_not_counted(calendar):
    received = date(2025, 3, 31)
    assert calendar.due_after_receipt(received, 5, working_days=False) == date(2025, 4, 5)
    assert calendar.due_after_receipt(received, 5, working_days=True) == date(2025, 4, 8)


def test_negative_relative_days_rejected(calendar):
    with pytest.raises(ValueError):
        calendar.due_after_receipt(date(2025, 3, 31), -1, working_days=True)


def test_working_days_between(calendar):
    assert calendar.working_days_between(date(2025, 4, 4), date(2025, 4, 9)) == 2
    assert calendar.working_days_between(date(2025, 4, 9), date(2025, 4, 4)) == -2
    assert calendar.working_days_between(date(2025, 4, 9), date(2025, 4, 9)) == 0


def test_declared_day_is_a_day_off():
    declared = WorkingCalendar(declared={date(2025, 4, 17): "วันหยุดราชการเป็นกรณีพิเศษ"})
    assert declared.is_working_day(date(2025, 4, 17)) is False
    assert declared.holiday_name(date(2025, 4, 17)) == "วันหยุดราชการเป็นกรณีพิเศษ"
    assert declared.add_working_days(date(2025, 4, 11), 1) == date(2025, 4, 18)


def test_today_in_thailand_crosses_midnight_before_utc():
    assert today_in_thailand(datetime(2025, 12, 31, 17, 30, tzinfo=timezone.utc)) == date(2026, 1, 1)
    with pytest.raises(ValueError):
        today_in_thailand(datetime(2025, 12, 31, 17, 30))
