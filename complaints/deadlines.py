"""Deadlines (办理时限) on the Chinese working-day calendar.

Hour limits (emergency 2 h, utility 24 h) run on the clock from receipt: those services work round the clock.
Day limits (general 7, complex 15) count working days after the day of receipt and end at the close of the
last one (23:59:59 Beijing time). A working day is Monday–Friday unless the calendar lists it as a holiday, or
a Saturday/Sunday the calendar lists as a make-up working day (调休上班). The calendar is data
(`CalendarDay`, loaded per year from fixtures/complaints/calendar-YYYY.json), never code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from .constants import DEADLINE_RULES, DeadlineUnit

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = dt.time(23, 59, 59)
# Fifteen working days never span more than this many calendar days, even across the Spring Festival.
_SPAN_DAYS = 60


@dataclass
class WorkCalendar:
    """Working days with their exceptions; `years` are the years whose arrangement is known."""

    exceptions: dict[dt.date, bool] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, start: dt.date, end: dt.date) -> WorkCalendar:
        """The calendar from the database for [start, end + the longest limit]."""
        from .models import CalendarDay, CalendarYear

        stop = end + dt.timedelta(days=_SPAN_DAYS)
        days = CalendarDay.objects.between(start, stop).values_list("date", "is_workday")
        years = set(
            CalendarYear.objects.filter(year__gte=start.year, year__lte=stop.year).values_list("year", flat=True)
        )
        return cls(exceptions=dict(days), years=years)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def missing_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years in [start, end] whose holidays are not loaded (deadlines there count weekends only)."""
        return [y for y in range(start.year, end.year + 1) if y not in self.years]

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (the day itself does not count)."""
        current = day
        remaining = count
        while remaining > 0:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def deadline(self, received_at: dt.datetime, urgency: str) -> dt.datetime:
        """When a complaint received at `received_at` (aware) with `urgency` must be done."""
        amount, unit = DEADLINE_RULES[urgency]
        if unit == DeadlineUnit.HOURS:
            return received_at + dt.timedelta(hours=amount)
        local_day = received_at.astimezone(LOCAL_TZ).date()
        last = self.add_working_days(local_day, amount)
        return dt.datetime.combine(last, END_OF_DAY, tzinfo=LOCAL_TZ)

    def working_days_array(self, start: dt.date, end: dt.date) -> np.ndarray:
        """Every working day in [start, end] as sorted datetime64[D]."""
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        work = weekday < 5
        for day, is_workday in self.exceptions.items():
            index = (np.datetime64(day, "D") - days[0]).astype("int64")
            if 0 <= index < len(days):
                work[index] = is_workday
        return days[work]

    def deadlines(self, received_utc: np.ndarray, urgency: np.ndarray) -> np.ndarray:
        """Vectorised `deadline`: datetime64[us] UTC receipt times and urgency codes → datetime64[us] UTC.

        Used by bulk intake, where a Python loop per row would cost more than the database write.
        """
        received_utc = received_utc.astype("datetime64[us]")
        out = np.full(received_utc.shape, np.datetime64("NaT"), dtype="datetime64[us]")
        if received_utc.size == 0:
            return out
        offset = np.timedelta64(8, "h")  # Beijing time has had no daylight saving since 1991
        local_day = (received_utc + offset).astype("datetime64[D]")
        start = local_day.min().astype(dt.date)
        end = local_day.max().astype(dt.date) + dt.timedelta(days=_SPAN_DAYS)
        workdays = self.working_days_array(start, end)
        end_of_day = np.timedelta64(86_399, "s") - offset
        for code, (amount, unit) in DEADLINE_RULES.items():
            mask = urgency == code
            if not mask.any():
                continue
            if unit == DeadlineUnit.HOURS:
                out[mask] = received_utc[mask] + np.timedelta64(amount, "h")
            else:
                first_after = np.searchsorted(workdays, local_day[mask], side="right")
                last = workdays[first_after + amount - 1]
                out[mask] = last.astype("datetime64[us]") + end_of_day
        return out


def deadline_for(received_at: dt.datetime, urgency: str, calendar: WorkCalendar | None = None) -> dt.datetime:
    """The deadline of one complaint, reading the calendar from the database when none is given."""
    if calendar is None:
        day = received_at.astimezone(LOCAL_TZ).date()
        calendar = WorkCalendar.load(day, day)
    return calendar.deadline(received_at, urgency)
