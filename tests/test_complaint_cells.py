"""Hexagon counts per day (complaints.cells): equal to an independent assignment, kept current by the triggers
through inserts, deletes, moves and bulk imports, and drawn the same as tiles counted from the complaints."""

import csv
import datetime as dt
import math
from collections import Counter

import mapbox_vector_tile
import numpy as np
import pytest
from django.contrib.gis.geos import Point

from complaints import cells
from complaints.bulk import complaints_import
from complaints.constants import Status
from complaints.deadlines import LOCAL_TZ
from complaints.models import Category, Complaint, ComplaintCell, ComplaintCellChange
from complaints.permissions import SYSTEM

R = 6378137.0


def reference_cell(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The hexagon holding a point, found by brute force: the nearest of the centres around it.

    Centres of zoom z sit at (1.5·s·i, (√3/2)·s·j) metres in EPSG:3857 with i and j of equal parity.
    """
    s = cells.WEB_MERCATOR_WORLD_M / 2**z / 24
    x = math.radians(lon) * R
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * R
    i0, j0 = round(x / (1.5 * s)), round(y / (math.sqrt(3) / 2 * s))
    best = None
    for i in range(i0 - 3, i0 + 4):
        for j in range(j0 - 3, j0 + 4):
            if (i - j) % 2:
                continue
            d = (x - 1.5 * s * i) ** 2 + (y - math.sqrt(3) / 2 * s * j) ** 2
            if best is None or d < best[0]:
                best = (d, i, j)
    return best[1], best[2]


def reference_counts() -> Counter:
    """(zoom, period, i, j, key) → complaints, from the complaints table and `reference_cell`."""
    counts = Counter()
    for location, received in Complaint.objects.values_list("location", "received_at"):
        day = received.astimezone(LOCAL_TZ).date()
        keys = {cells.DAY: day, cells.MONTH: day.replace(day=1), cells.YEAR: day.replace(month=1, day=1)}
        for z in cells.CELL_ZOOMS:
            i, j = reference_cell(location.x, location.y, z)
            for period, key in keys.items():
                counts[(z, period, i, j, key)] += 1
    return counts


def stored_counts() -> Counter:
    rows = ComplaintCell.objects.values_list("zoom", "period", "i", "j", "day", "n")
    return Counter({(z, period, i, j, day): n for z, period, i, j, day, n in rows if n})


def make_complaints(n: int, seed: int = 7, prefix: str = "cell") -> list[Complaint]:
    rng = np.random.default_rng(seed)
    leaf = Category.objects.get(code="010101")
    rows = [
        Complaint(
            external_id=f"{prefix}-{k}",
            received_at=dt.datetime(2024, 5, 1 + k % 20, int(rng.integers(0, 24)), 0, tzinfo=LOCAL_TZ),
            category=leaf,
            location=Point(float(rng.uniform(116.30, 116.50)), float(rng.uniform(39.85, 39.98)), srid=4326),
            status=Status.RECEIVED,
        )
        for k in range(n)
    ]
    return Complaint.objects.bulk_create(rows)


@pytest.mark.django_db
def test_counts_equal_an_independent_hexagon_assignment():
    before = ComplaintCellChange.objects.count()  # other tests' committed imports may have left changes
    make_complaints(400)
    assert ComplaintCellChange.objects.count() == before + 400  # logged by the insert trigger, not yet counted
    assert cells.cells_fold() == before + 400 and not ComplaintCellChange.objects.exists()
    assert stored_counts() == reference_counts()
    for period in (cells.DAY, cells.MONTH, cells.YEAR):
        assert sum(n for (z, p, *_), n in stored_counts().items() if z == 10 and p == period) == 400


@pytest.mark.parametrize(
    "first,last,blocks",
    [
        ("2024-05-03", "2024-05-09", [(0, "2024-05-03", "2024-05-09")]),
        ("2024-05-01", "2024-05-31", [(1, "2024-05-01", "2024-05-01")]),
        (
            "2023-11-15",
            "2026-02-10",
            [
                (0, "2023-11-15", "2023-11-30"),
                (1, "2023-12-01", "2023-12-01"),
                (2, "2024-01-01", "2025-01-01"),
                (1, "2026-01-01", "2026-01-01"),
                (0, "2026-02-01", "2026-02-10"),
            ],
        ),
        ("2024-02-29", "2024-02-28", []),
    ],
)
def test_a_date_range_is_cut_into_days_months_and_years(first, last, blocks):
    def day(text):
        return dt.date.fromisoformat(text)

    assert cells.periods(day(first), day(last)) == [(p, day(a), day(b)) for p, a, b in blocks]


def test_every_day_of_an_open_range_is_in_exactly_one_block():
    blocks = cells.periods(None, dt.date(2025, 3, 17))
    assert blocks[0] == (cells.YEAR, dt.date(cells.MIN_YEAR, 1, 1), dt.date(2024, 1, 1))
    assert blocks[1:] == [
        (cells.MONTH, dt.date(2025, 1, 1), dt.date(2025, 2, 1)),
        (cells.DAY, dt.date(2025, 3, 1), dt.date(2025, 3, 17)),
    ]
    assert cells.periods(dt.date(2025, 1, 1), None)[-1][0] == cells.YEAR


def test_numpy_and_sql_put_points_in_the_same_hexagon(db):
    from django.db import connection

    rng = np.random.default_rng(11)
    x = rng.uniform(12.8e6, 13.1e6, 2000)
    y = rng.uniform(4.7e6, 4.95e6, 2000)
    for z in (10, 14):
        s = cells.hex_size_m(z)
        values = ", ".join(
            f"({float(a)!r}::float8, {float(b)!r}::float8, {s!r}::float8)" for a, b in zip(x, y, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT i, j FROM ({cells.hex_cells_sql(f'SELECT * FROM (VALUES {values}) AS v(x, y, s)')}) AS h"
            )
            from_sql = np.array(cursor.fetchall())
        i, j = cells.hex_cells(x, y, s)
        assert (from_sql[:, 0] == i).all() and (from_sql[:, 1] == j).all()


@pytest.mark.django_db
def test_deletes_moves_and_new_receipt_times_are_followed():
    made = make_complaints(200)
    cells.cells_fold()
    Complaint.objects.filter(pk__in=[c.pk for c in made[:20]]).delete()
    Complaint.objects.filter(pk=made[30].pk).update(location=Point(116.60, 40.05, srid=4326))
    Complaint.objects.filter(pk=made[31].pk).update(received_at=dt.datetime(2024, 6, 30, 23, 30, tzinfo=LOCAL_TZ))
    logged = ComplaintCellChange.objects.count()
    Complaint.objects.filter(pk__in=[c.pk for c in made[40:80]]).update(status=Status.CLOSED)
    assert ComplaintCellChange.objects.count() == logged == 20 + 2 + 2  # a status change is not logged
    cells.cells_fold()
    assert stored_counts() == reference_counts()
    incremental = stored_counts()
    assert cells.cells_rebuild() == Complaint.objects.count()
    assert stored_counts() == incremental


@pytest.mark.django_db
def test_a_bulk_import_is_counted_when_it_finishes(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "cells.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "received_at", "category", "lon", "lat"])
        for k in range(300):
            lon, lat = rng.uniform(116.2, 116.6), rng.uniform(39.8, 40.0)
            writer.writerow(
                [f"CELL{k}", f"2025-03-{1 + k % 28:02d}T08:00:00+08:00", "010101", f"{lon:.7f}", f"{lat:.7f}"]
            )
    record = complaints_import(source=path, batch_size=100, overlap=False, by=SYSTEM)
    assert record.rows_created == 300
    assert not ComplaintCellChange.objects.exists()
    assert stored_counts() == reference_counts()


@pytest.fixture
def client(admin_client):
    """Tiles as a city administrator, who sees every count; what others see: tests/test_read_scope.py."""
    return admin_client


def _hexagons(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code in (200, 204)
    if response.status_code == 204:
        return {}
    layer = mapbox_vector_tile.decode(response.content).get("complaints", {"features": []})
    return {f["id"]: f["properties"]["complaints"] for f in layer["features"]}


@pytest.mark.django_db
@pytest.mark.parametrize("z", cells.CELL_ZOOMS)
def test_tiles_from_stored_counts_equal_tiles_counted_from_the_complaints(client, z):
    make_complaints(500)
    n = 2**z
    x = int((116.40 + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(39.91))) / math.pi) / 2.0 * n)
    every_status = ",".join(Status.values)  # a filter that keeps everything but makes the tile count complaints
    for dates in ("", "from=2024-05-03&to=2024-05-09&"):
        stored = _hexagons(client, f"/tiles/complaints/{z}/{x}/{y}.pbf?{dates}")
        counted = _hexagons(client, f"/tiles/complaints/{z}/{x}/{y}.pbf?{dates}status={every_status}")
        assert stored and stored == counted


@pytest.mark.django_db
def test_emptying_the_complaints_table_empties_the_counts():
    from django.db import connection

    make_complaints(50)
    cells.cells_fold()
    assert ComplaintCell.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's deferred key checks would refuse a TRUNCATE
        cursor.execute("TRUNCATE complaints_complaint CASCADE")
    assert not ComplaintCell.objects.exists() and not ComplaintCellChange.objects.exists()


@pytest.mark.django_db
def test_the_command_folds_and_rebuilds():
    from io import StringIO

    from django.core.management import call_command

    cells.cells_fold()
    make_complaints(30)
    out = StringIO()
    call_command("complaint_cells", stdout=out)
    assert "folded 30 changes" in out.getvalue() and stored_counts() == reference_counts()
    ComplaintCell.objects.update(n=99)
    call_command("complaint_cells", "--rebuild", stdout=out)
    assert stored_counts() == reference_counts()


@pytest.mark.django_db
def test_a_large_backlog_is_left_to_the_fold_and_tiles_count_from_the_complaints(client, monkeypatch):
    cells.cells_fold()
    earlier = stored_counts()
    make_complaints(200)
    monkeypatch.setattr(cells, "INLINE_FOLD_MAX", 50)
    z, n = 12, 2**12
    x = int((116.40 + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(39.91))) / math.pi) / 2.0 * n)
    counted = _hexagons(client, f"/tiles/complaints/{z}/{x}/{y}.pbf")
    assert ComplaintCellChange.objects.count() == 200 and stored_counts() == earlier  # nothing folded
    cells.cells_fold()
    stored = _hexagons(client, f"/tiles/complaints/{z}/{x}/{y}.pbf")
    assert counted and stored == counted
