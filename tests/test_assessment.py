"""三率考核: a small month of complaints whose rates, score, rank and flags are computed by hand (docs/assessment.md
has the same example worked through), the command's idempotence, and the API's formats and read policy."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command

from assessment import selectors
from assessment.models import AssessmentMonth, UnitAssessment
from assessment.services import assessment_compute, composite_score
from complaints.deadlines import LOCAL_TZ
from complaints.models import Assignment, Category, Complaint, StatusChange
from jurisdictions.models import Department

MAY = dt.date(2023, 5, 1)
APRIL = dt.date(2023, 4, 1)
A, B = "110101001", "110101002"  # 东华门街道, 景山街道
NAMES = {A: "东华门街道", B: "景山街道"}


def local(month, day, hour, minute=0):
    return dt.datetime(2023, month, day, hour, minute, tzinfo=LOCAL_TZ)


def add(
    key,
    received,
    *,
    lead=A,
    urgency="general",
    status="closed",
    satisfaction="",
    deadline=None,
    resolved=None,
    steps=(),
    department=None,
    returned_by=None,
    redispatched_at=None,
):
    """One complaint with its lead assignment, an optional department copy, and its history (`steps`: (status, at))."""
    complaint = Complaint.objects.create(
        external_id=f"assess-{key}",
        received_at=received,
        category=Category.objects.get(code="010101"),
        urgency=urgency,
        location=Point(116.40, 39.91, srid=4326),
        status=status,
        satisfaction=satisfaction,
        deadline_at=deadline,
        resolved_at=resolved,
        district_code="110101",
        street_code=lead,
        lead_code=lead,
    )
    intake = dt.datetime(2023, 1, 1, tzinfo=LOCAL_TZ)  # as a bulk import stores it: the same instant for every row
    if returned_by:
        Assignment.objects.create(
            complaint=complaint,
            role="lead",
            area_code=returned_by,
            area_level="street",
            unit_name=NAMES[returned_by],
            state="returned",
            created_at=received,
        )
        intake = redispatched_at
    Assignment.objects.create(
        complaint=complaint,
        role="lead",
        area_code=lead,
        area_level="street",
        unit_name=NAMES[lead],
        state="active",
        created_at=intake if returned_by else received,
    )
    if department is not None:
        Assignment.objects.create(
            complaint=complaint,
            role="department",
            department=department,
            unit_name=department.name,
            created_at=received,
        )
    previous = ""
    for to, at in steps:
        StatusChange.objects.create(complaint=complaint, from_status=previous, to_status=to, at=at)
        previous = to
    return complaint


@pytest.fixture
def month_of_complaints(db):
    """Street A: six complaints in May 2023 (see the expected figures in the tests), B three good ones, a
    department copies of A's first three; one complaint of A just after May and three good ones in April."""
    dept = Department.objects.create(
        code="110101.assess_test", name="测试城管委", role="city_management", district_code="110101"
    )
    add(
        1,
        local(5, 1, 0, 10),
        satisfaction="satisfied",
        deadline=local(5, 12, 23, 59),
        resolved=local(5, 5, 10),
        steps=[("accepted", local(5, 1, 5)), ("resolved", local(5, 5, 10)), ("closed", local(5, 6, 9))],
        department=dept,
    )
    add(
        2,
        local(5, 7, 9),
        satisfaction="basically",
        deadline=local(5, 16, 23, 59),
        resolved=local(5, 10, 9),
        steps=[("accepted", local(5, 8, 12)), ("resolved", local(5, 10, 9)), ("closed", local(5, 11, 9))],
        department=dept,
    )
    add(
        3,
        local(5, 8, 8),
        urgency="emergency",
        status="resolved",
        satisfaction="unsatisfied",
        deadline=local(5, 8, 10),
        resolved=local(5, 8, 12),
        steps=[("in_progress", local(5, 8, 11)), ("resolved", local(5, 8, 12))],
        department=dept,
    )
    add(
        4,
        local(5, 20, 10),
        status="in_progress",
        deadline=local(5, 29, 23, 59),
        steps=[
            ("accepted", local(5, 20, 11)),
            ("resolved", local(5, 22, 9)),
            ("reopened", local(5, 23, 9)),
            ("in_progress", local(5, 23, 10)),
        ],
    )
    add(5, local(5, 31, 23), status="dispatched", steps=[("dispatched", local(5, 31, 23))])
    add(
        6,
        local(5, 10, 9),
        satisfaction="satisfied",
        returned_by=B,
        redispatched_at=local(5, 12, 9),
        steps=[
            ("dispatched", local(5, 10, 9)),
            ("returned", local(5, 10, 15)),
            ("dispatched", local(5, 12, 9)),
            ("accepted", local(5, 12, 10)),
            ("resolved", local(5, 14, 9)),
            ("closed", local(5, 15, 9)),
        ],
    )
    add(7, local(6, 1, 0, 30), satisfaction="unsatisfied", steps=[("closed", local(6, 1, 1))])  # June, not May
    for i in range(3):
        add(f"b{i}", local(5, 3 + i, 9), lead=B, satisfaction="satisfied", steps=[("closed", local(5, 3 + i, 9))])
        add(f"a{i}", local(4, 3 + i, 9), satisfaction="satisfied", steps=[("closed", local(4, 3 + i, 9))])
    return dept


def figures(level, month=MAY):
    return {f.code: f for f in selectors.unit_figures(month=month, level=level)}


def test_street_figures_match_the_hand_count(month_of_complaints):
    a = figures("street")[A]
    # 1 in time (5 h), 2 late (27 h), 3 late (emergency, 3 h > 2 h), 4 in time, 5 never answered (due: its 24 h
    # are over), 6 in time counted from its re-dispatch (1 h; 49 h from receipt).
    assert (a.complaints, a.response_due, a.responded_in_time) == (6, 6, 3)
    # Called back: 1, 2, 3 (rated), 4 (reopened after resolution), 6; solved (closed): 1, 2, 6.
    assert (a.called_back, a.solved) == (5, 3)
    # Rated: 1 satisfied, 2 basically, 3 unsatisfied, 6 satisfied.
    assert (a.rated, a.satisfied) == (4, 3)
    # Overdue: 3 resolved two hours after its deadline; 4 still open past its deadline.
    assert a.overdue == 2
    assert a.name == "东华门街道" and a.parent_code == "110101"
    # B returned complaint 6: it is not B's; B keeps its own three.
    assert figures("street")[B].complaints == 3


def test_department_and_district_figures(month_of_complaints):
    d = figures("department")["110101.assess_test"]
    assert (d.complaints, d.response_due, d.responded_in_time, d.called_back, d.solved, d.rated, d.satisfied) == (
        3,
        3,
        1,
        3,
        2,
        3,
        2,
    )
    district = figures("district")["110101"]
    assert district.complaints == 9 and district.name == "东城区"
    assert district.responded_in_time == 3 + 3


def test_rates_score_rank_and_focus(month_of_complaints, settings):
    settings.SHAOZI = {**settings.SHAOZI, "ASSESSMENT_FOCUS_COUNT": 1}
    assessment_compute(month=APRIL)
    assessment_compute(month=MAY)
    a = UnitAssessment.objects.get(month=MAY, level="street", code=A)
    assert (a.response_rate, a.resolution_rate, a.satisfaction_rate) == (0.5, 0.6, 0.75)
    assert a.score == 65.75  # 10 × 0.5 + 45 × 0.6 + 45 × 0.75
    b = UnitAssessment.objects.get(month=MAY, level="street", code=B)
    assert (b.score, b.rank, a.rank, a.peers) == (100.0, 1, 2, 2)
    assert a.focus and not b.focus
    assert a.score_change == 65.75 - 100.0 and a.rank_change == 1 - 2  # April: A alone, 100, first
    d = UnitAssessment.objects.get(month=MAY, level="department", code="110101.assess_test")
    assert d.score == round(100 * (10 / 3 + 45 * 2 / 3 + 45 * 2 / 3) / 100, 2)


def test_weights_come_from_settings_and_unmeasured_rates_drop_out(settings):
    settings.SHAOZI = {**settings.SHAOZI, "ASSESSMENT_WEIGHTS": {"response": 20, "resolution": 40, "satisfaction": 40}}
    from assessment.constants import weights

    assert weights() == {"response": 20.0, "resolution": 40.0, "satisfaction": 40.0}
    assert composite_score({"response": 0.5, "resolution": None, "satisfaction": 1.0}, weights()) == round(
        100 * (20 * 0.5 + 40 * 1.0) / 60, 2
    )
    assert composite_score({"response": None, "resolution": None, "satisfaction": None}, weights()) is None


def test_the_command_is_idempotent(month_of_complaints):
    call_command("assessment_compute", "--month", "2023-05", verbosity=0)
    first = list(UnitAssessment.objects.filter(month=MAY).order_by("level", "code").values())
    call_command("assessment_compute", "--month", "2023-05", verbosity=0)
    second = list(UnitAssessment.objects.filter(month=MAY).order_by("level", "code").values())
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    assert strip(first) == strip(second) and len(first) == 2 + 1 + 1
    assert AssessmentMonth.objects.filter(month=MAY).count() == 1


def test_the_command_refuses_a_bad_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("assessment_compute", "--month", "2023-13", verbosity=0)


@pytest.fixture
def computed(month_of_complaints):
    assessment_compute(month=APRIL)
    assessment_compute(month=MAY)


def test_api_json_for_a_logged_in_user(client, computed, django_assert_max_num_queries):
    client.force_login(User.objects.create_user("assess-reader"))
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/assessment?month=2023-05&level=street").json()
    assert body["weights"] == {"response": 10.0, "resolution": 45.0, "satisfaction": 45.0}
    assert [u["code"] for u in body["units"]] == [B, A]
    assert body["units"][1]["score"] == 65.75 and body["units"][1]["response_rate"] == 0.5
    assert set(body["months"]) >= {"2023-05", "2023-04"}
    trend = client.get(f"/api/v1/assessment?level=street&unit={A}").json()
    assert [m["month"] for m in trend["months"]][-2:] == ["2023-04", "2023-05"]


def test_api_geojson_and_csv(client, computed):
    client.force_login(User.objects.create_user("assess-reader"))
    geo = client.get("/api/v1/assessment?month=2023-05&level=street&format=geojson")
    assert geo.status_code == 200 and geo["Content-Type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert {f["id"] for f in features} == {A, B}
    assert features[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    text = client.get("/api/v1/assessment?month=2023-05&level=department&format=csv")
    assert text["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[0]["code"] == "110101.assess_test" and rows[0]["month"] == "2023-05"
    bad = client.get("/api/v1/assessment?month=2023-05&level=department&format=geojson")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_filter"


def test_api_errors(client, computed):
    client.force_login(User.objects.create_user("assess-reader"))
    assert client.get("/api/v1/assessment?month=2023-5x").json()["error"]["code"] == "invalid_month"
    assert client.get("/api/v1/assessment?level=grid").json()["error"]["code"] == "invalid_filter"
    missing = client.get("/api/v1/assessment?month=1999-01")
    assert missing.status_code == 404 and "2023-05" in missing.json()["error"]["details"]["computed"]


def test_anonymous_callers_only_when_published_and_without_small_counts(client, computed, settings):
    assert client.get("/api/v1/assessment?month=2023-05").status_code == 401
    settings.SHAOZI = {**settings.SHAOZI, "ASSESSMENT_PUBLISHED": True, "MIN_PUBLIC_CELL_COUNT": 4}
    units = {u["code"]: u for u in client.get("/api/v1/assessment?month=2023-05").json()["units"]}
    assert units[A]["score"] == 65.75 and units[A]["complaints"] == 6
    assert units[B].get("suppressed") is True  # three complaints, under the threshold of four
    assert units[B]["complaints"] is None and units[B]["score"] is None and units[B]["rank"] == 1


def test_the_page_ranks_sorts_and_links(client, computed):
    assert client.get("/assessment/").status_code == 302  # not published: log in first
    client.force_login(User.objects.create_user("assess-reader"))
    page = client.get("/assessment/?month=2023-05&level=street").content.decode()
    assert page.index(NAMES[B]) < page.index(NAMES[A])  # best first
    assert "65.75" in page and "50.0%" in page and "60.0%" in page and "75.0%" in page
    assert "治理类重点" in page and 'id="assessment-chart"' in page
    assert f"/desk/?street={A}" in page and "format=csv" in page
    trend = client.get(f"/assessment/?month=2023-05&level=street&unit={A}").content.decode()
    assert 'id="assessment-trend"' in trend
    departments = client.get("/assessment/?month=2023-05&level=department").content.decode()
    assert "测试城管委" in departments


def test_the_page_says_when_nothing_is_computed(client, db):
    client.force_login(User.objects.create_user("assess-reader"))
    assert 'id="assessment-empty"' in client.get("/assessment/").content.decode()


def test_api_with_nothing_computed_answers_empty(client, db):
    client.force_login(User.objects.create_user("assess-reader"))
    body = client.get("/api/v1/assessment?format=geojson").json()
    assert body["features"] == [] and body["months"] == [] and body["month"] is None
