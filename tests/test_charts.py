"""Chart endpoints of the planner map: weekly counts, top categories, a cell's emerging z-series — each checked
against SQL written independently of the selectors."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection

from complaints.deadlines import LOCAL_TZ
from complaints.models import Category, Complaint

CENTRE = (116.40, 39.91)


@pytest.fixture
def chart_complaints(db):
    """90 complaints near 东城区's centre and 10 far away (密云), over three weeks of March 2024 (local time)."""
    leaves = [Category.objects.get(code=c) for c in ("010101", "010102", "030101")]
    rows = []
    for i in range(100):
        far = i >= 90
        rows.append(
            Complaint(
                external_id=f"chart-test-{i}",
                received_at=dt.datetime(2024, 3, 4, 23, 30, tzinfo=LOCAL_TZ) + dt.timedelta(hours=5 * i),
                category=leaves[0 if i % 5 < 3 else (1 if i % 5 == 3 else 2)],
                location=Point(116.85 if far else CENTRE[0] + (i % 10) / 1000, 40.37 if far else CENTRE[1], srid=4326),
                status="closed" if i % 4 == 0 else "dispatched",
                district_code="110228" if far else "110101",
                street_code="110228001" if far else ("110101001" if i % 2 else "110101002"),
            )
        )
    Complaint.objects.bulk_create(rows)
    return rows


def sql_weekly(where: str = "", params=()) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_char(date_trunc('week', received_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD'), count(*) "
            "FROM complaints_complaint WHERE external_id LIKE 'chart-test-%%' " + where + " GROUP BY 1",
            list(params),
        )
        return dict(cursor.fetchall())


def nonzero(weeks: list[dict]) -> dict[str, int]:
    return {w["week"]: w["count"] for w in weeks if w["count"]}


@pytest.fixture
def client(admin_client):
    """Charts as a city administrator (no small count suppressed); what others see: tests/test_read_scope.py."""
    return admin_client


def test_weekly_counts_match_sql(client, chart_complaints):
    data = client.get("/map/charts/weekly?from=2024-03-01&to=2024-03-31").json()
    assert data["from"] == "2024-03-01" and data["to"] == "2024-03-31"
    # Every Monday from the week of 1 March to the week of 31 March, zeros included.
    assert [w["week"] for w in data["weeks"]][:2] == ["2024-02-26", "2024-03-04"]
    assert data["weeks"][-1]["week"] == "2024-03-25"
    assert nonzero(data["weeks"]) == sql_weekly()
    # The first complaint (Monday 4 March 23:30 local, 15:30 UTC) counts in the week of 4 March.
    assert nonzero(data["weeks"])["2024-03-04"] >= 1


@pytest.mark.parametrize(
    "query,where,params",
    [
        ("status=closed", "AND status = %s", ["closed"]),
        ("area=110101002", "AND street_code = %s", ["110101002"]),
        ("district=110228", "AND district_code = %s", ["110228"]),
        ("category=01", "AND category_id IN (SELECT id FROM complaints_category WHERE code LIKE %s)", ["01%"]),
        ("bbox=116.3,39.8,116.5,40.0", "AND ST_X(location) < 116.5", []),
        (
            "from=2024-03-10&to=2024-03-16",
            "AND received_at >= %s AND received_at < %s",
            ["2024-03-10T00:00+08:00", "2024-03-17T00:00+08:00"],
        ),
    ],
)
def test_weekly_follows_the_complaint_filters(client, chart_complaints, query, where, params):
    base = "" if "from=" in query else "from=2024-03-01&to=2024-03-31&"
    data = client.get(f"/map/charts/weekly?{base}{query}").json()
    expected = sql_weekly(where, params)
    assert nonzero(data["weeks"]) == expected
    assert sum(expected.values()) < len(chart_complaints)


def test_weekly_without_dates_ends_at_the_newest_complaint(client, chart_complaints):
    newest = max(c.received_at for c in chart_complaints).astimezone(LOCAL_TZ).date()
    data = client.get("/map/charts/weekly?weeks=4&district=110101").json()
    assert data["to"] == newest.isoformat()
    assert len(data["weeks"]) in (4, 5)


def test_top_categories_match_sql(client, chart_complaints):
    data = client.get("/map/charts/categories?area=110101&from=2024-03-01&to=2024-03-31").json()
    assert data["total"] == 90 and data["level"] == 3
    assert [(c["code"], c["count"]) for c in data["categories"]] == [("010101", 54), ("010102", 18), ("030101", 18)]
    assert data["categories"][0]["name"] == "绿地杂乱"
    top = client.get("/map/charts/categories?level=1&limit=1&from=2024-03-01&to=2024-03-31").json()
    assert [(c["code"], c["count"]) for c in top["categories"]] == [("01", 80)]
    assert top["total"] == 100


@pytest.mark.parametrize(
    "url,code",
    [
        ("/map/charts/weekly?bbox=1,2,3", "invalid_bbox"),
        ("/map/charts/weekly?bbox=10,0,5,1", "invalid_bbox"),
        ("/map/charts/weekly?status=lost", "invalid_filter"),
        ("/map/charts/weekly?weeks=0", "invalid_filter"),
        ("/map/charts/weekly?colour=red", "unknown_filter"),
        ("/map/charts/categories?level=4", "invalid_filter"),
        ("/map/charts/categories?from=March", "invalid_date"),
        ("/map/charts/cell?h3=nothex", "invalid_filter"),
    ],
)
def test_chart_errors_have_the_api_shape(client, db, url, code):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.fixture(scope="module")
def hotspots_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("hotspots_demo_load", "--if-empty", verbosity=0)


def test_cell_trend_is_the_cells_z_series_of_the_latest_emerging_run(client, db, hotspots_demo):
    from hotspots.models import AnalysisRun, EmergingCell

    run = AnalysisRun.objects.filter(layer="emerging", finished_at__isnull=False).latest("finished_at")
    cell = EmergingCell.objects.filter(run=run).exclude(pattern="none").first()
    data = client.get(f"/map/charts/cell?h3={cell.h3}").json()
    assert data["run"] == run.pk and data["pattern"] == cell.pattern
    assert [s["z"] for s in data["steps"]] == cell.z_series
    assert data["steps"][0]["start"] == run.period_start.isoformat()
    if run.params.get("step", "week") == "week" and len(data["steps"]) > 1:
        assert data["steps"][1]["start"] == (run.period_start + dt.timedelta(weeks=1)).isoformat()
    assert client.get(f"/map/charts/cell?h3={cell.h3}&run={run.pk}").json()["steps"] == data["steps"]
    assert client.get("/map/charts/cell?h3=8931aa0000fffff").status_code == 404
