import datetime as dt
import json

import numpy as np
import pytest
from django.core.management import call_command

from complaints.deadlines import LOCAL_TZ, WorkCalendar, deadline_for
from complaints.models import CalendarDay, CalendarYear
from complaints.services import ComplaintError, calendar, calendar_load


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    """Catalogue and the 2025/2026 calendars, loaded once through the real command."""
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


def bj(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=LOCAL_TZ)


@pytest.mark.django_db
def test_general_deadline_skips_national_day_and_counts_the_saturday_make_up_day():
    # 2025-09-29 (Mon): working days after it are 9-30, then 10-1…10-8 off, 10-9, 10-10, 10-11 (Sat, make-up),
    # 10-13, 10-14, 10-15. Without the make-up Saturday it would be 10-16; without the holiday, 10-10.
    assert deadline_for(bj(2025, 9, 29, 10, 0), "general") == end_of(dt.date(2025, 10, 15))


@pytest.mark.django_db
def test_sunday_make_up_day_counts_as_the_first_working_day():
    # Received Saturday 2025-09-27: Sunday 9-28 is a make-up working day and counts as day 1.
    assert deadline_for(bj(2025, 9, 27, 9, 0), "general") == end_of(dt.date(2025, 10, 13))


@pytest.mark.django_db
def test_received_on_a_holiday_counts_from_the_first_working_day_after():
    assert deadline_for(bj(2025, 10, 3, 15, 0), "general") == end_of(dt.date(2025, 10, 16))


@pytest.mark.django_db
def test_complex_deadline_across_the_2026_spring_festival():
    # Fri 2026-02-13 → Sat 2-14 make-up (1), 2-15…2-23 off, 2-24…2-27 (2–5), Sat 2-28 make-up (6), then 3-2 … 3-12.
    assert deadline_for(bj(2026, 2, 13, 17, 0), "complex") == end_of(dt.date(2026, 3, 12))


@pytest.mark.django_db
def test_hour_limits_run_on_the_clock_even_on_holidays():
    received = bj(2025, 10, 1, 23, 30)
    assert deadline_for(received, "emergency") == received + dt.timedelta(hours=2)
    assert deadline_for(received, "utility") == received + dt.timedelta(hours=24)


@pytest.mark.django_db
def test_the_calendar_is_data_a_year_without_it_only_skips_weekends():
    empty = WorkCalendar()
    assert empty.deadline(bj(2025, 9, 29, 10, 0), "general") == end_of(dt.date(2025, 10, 8))
    assert empty.missing_years(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == [2025]
    assert calendar().missing_years(dt.date(2025, 1, 1), dt.date(2026, 12, 31)) == []


@pytest.mark.django_db
def test_vectorised_deadlines_equal_the_scalar_rule():
    work = calendar()
    rng = np.random.default_rng(7)
    start = bj(2025, 1, 1)
    received = [start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 700 * 24 * 60, 400)]
    urgencies = rng.choice(["emergency", "utility", "general", "complex"], len(received))
    utc = np.array([r.astimezone(dt.UTC).replace(tzinfo=None) for r in received], dtype="datetime64[us]")
    vector = work.deadlines(utc, urgencies)
    for moment, urgency, got in zip(received, urgencies, vector, strict=True):
        expected = work.deadline(moment, urgency).astimezone(dt.UTC).replace(tzinfo=None)
        assert got.astype(dt.datetime) == expected, (moment, urgency)


@pytest.mark.django_db
def test_calendar_load_replaces_a_year_and_refuses_a_day_that_is_both(tmp_path):
    path = tmp_path / "calendar-2030.json"
    path.write_text(
        json.dumps(
            {
                "year": 2030,
                "source": "测试 test",
                "holidays": [{"name": "测试假", "from": "2030-05-01", "to": "2030-05-03"}],
                "workdays": [{"name": "调休", "date": "2030-05-04"}],
            }
        )
    )
    assert calendar_load(source=path) == 4
    assert CalendarYear.objects.filter(year=2030).exists()
    path.write_text(json.dumps({"year": 2030, "source": "x", "holidays": [{"name": "a", "from": "2030-10-01"}]}))
    assert calendar_load(source=path) == 1
    assert list(CalendarDay.objects.filter(date__year=2030).values_list("date", flat=True)) == [dt.date(2030, 10, 1)]
    path.write_text(
        json.dumps(
            {
                "year": 2030,
                "holidays": [{"name": "a", "from": "2030-10-01"}],
                "workdays": [{"name": "b", "date": "2030-10-01"}],
            }
        )
    )
    with pytest.raises(ComplaintError) as info:
        calendar_load(source=path)
    assert info.value.code == "calendar_conflict"
