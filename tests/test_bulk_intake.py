"""Bulk intake: every good row in, every bad row reported by number, batches all-or-nothing, idempotent re-runs."""

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from complaints.bulk import BulkImportError, complaints_import
from complaints.deadlines import LOCAL_TZ
from complaints.models import Assignment, BulkImport, Complaint, StatusChange
from complaints.permissions import SYSTEM
from complaints.selectors import complaint_verdict
from geo import coords
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area, Building
from jurisdictions.selectors import jurisdiction_lookup
from jurisdictions.services import rule_create

LUGU = "110107011"
COLUMNS = ["external_id", "received_at", "category", "lon", "lat", "crs", "status", "description", "accuracy_m"]


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


def street_points(n: int, seed: int = 1) -> np.ndarray:
    """`n` points spread over the demo streets of 石景山 and 西城 (WGS-84)."""
    rng = np.random.default_rng(seed)
    areas = list(Area.objects.current(dt.date(2025, 6, 1)).filter(parent__code__in=["110107", "110102"]))
    out = []
    for i in range(n):
        geom = shapely.from_wkb(bytes(areas[i % len(areas)].geom.wkb))
        minx, miny, maxx, maxy = geom.bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(geom, x, y):
                out.append((x, y))
                break
    return np.array(out)


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return path


def good_rows(n: int, prefix: str = "B") -> list[dict]:
    points = street_points(n)
    return [
        {
            "external_id": f"{prefix}{i:05d}",
            "received_at": f"2025-06-{1 + i % 28:02d}T10:00:00+08:00",
            "category": ["020101", "030102", "010101"][i % 3],
            "lon": f"{x:.7f}",
            "lat": f"{y:.7f}",
        }
        for i, (x, y) in enumerate(points)
    ]


@pytest.mark.django_db
def test_bad_rows_are_reported_by_number_and_every_good_row_is_imported(tmp_path):
    rows = good_rows(30)
    rows[2]["external_id"] = ""  # row 3
    rows[5]["received_at"] = "yesterday"  # row 6
    rows[7]["category"] = "999999"  # row 8
    rows[11]["lon"] = "181"  # row 12
    rows[12]["crs"] = "epsg:3857"  # row 13
    rows[14]["external_id"] = rows[1]["external_id"]  # row 15 repeats row 2
    rows[20]["status"] = "lost"  # row 21
    rows[25]["lat"] = ""  # row 26
    rows[27]["description"] = "refused"  # row 28: passes the checks, but the database refuses it (below)
    path = write_csv(tmp_path / "mixed.csv", rows)
    with connection.cursor() as cursor:  # a real constraint, gone with the test's transaction
        cursor.execute("ALTER TABLE complaints_complaint ADD CONSTRAINT test_refuse CHECK (description <> 'refused')")
    record = complaints_import(source=path, batch_size=8, by=SYSTEM)
    bad = {e.row: e.errors for e in record.row_errors.all()}
    assert sorted(bad) == [3, 6, 8, 12, 13, 15, 21, 26, 28]
    assert "external_id" in bad[3] and "received_at" in bad[6] and "category" in bad[8] and "lon" in bad[12]
    assert "crs" in bad[13] and "第 2 行" in bad[15]["external_id"] and "status" in bad[21] and "lat" in bad[26]
    assert "database" in bad[28]
    good_ids = {r["external_id"] for i, r in enumerate(rows, start=1) if i not in bad}
    assert set(Complaint.objects.values_list("external_id", flat=True)) == good_ids
    assert (record.rows_read, record.rows_created, record.rows_bad, record.rows_existing) == (30, 21, 9, 0)
    assert record.state == "finished" and record.batches_done == 4


@pytest.mark.django_db
def test_rerun_is_idempotent_and_rows_are_dispatched_like_single_intake(tmp_path):
    rows = good_rows(40)
    rows[0]["description"] = '含,逗号 "引号"\n换行 \\N'
    rows[3]["crs"] = "gcj02"
    rows[3]["lon"], rows[3]["lat"] = (
        f"{v:.9f}" for v in coords.wgs84_to_gcj02(float(rows[3]["lon"]), float(rows[3]["lat"]))
    )
    path = write_csv(tmp_path / "good.csv", rows)
    first = complaints_import(source=path, batch_size=16, by=SYSTEM)
    again = complaints_import(source=path, batch_size=7, by=SYSTEM)
    assert (first.rows_created, again.rows_created, again.rows_existing, again.rows_bad) == (40, 0, 40, 0)
    assert Complaint.objects.count() == 40
    assert Complaint.objects.get(external_id=rows[0]["external_id"]).description == rows[0]["description"]
    assert StatusChange.objects.count() == 40
    for complaint in Complaint.objects.all():
        verdict = jurisdiction_lookup(point=complaint.location, at=dt.date(2025, 6, 1))
        assert complaint.street_code == verdict.street.code and complaint.district_code == verdict.district.code
        assert complaint.status == "dispatched" and complaint.lead_code == verdict.street.code
        assert complaint.deadline_at is not None
        rebuilt = complaint_verdict(complaint)
        assert rebuilt["bulk"] is True and rebuilt["method"] == "point"
        assert (rebuilt["street"]["code"], rebuilt["district"]["code"]) == (verdict.street.code, verdict.district.code)
        assert rebuilt["lead"] == verdict.as_dict()["lead"] and rebuilt["generation"]["name"] == verdict.generation.name
    water = Complaint.objects.filter(category__code="030102").first()
    roles = set(Assignment.objects.filter(complaint=water).values_list("role", "department__code"))
    assert roles == {("lead", None), ("department", "city.water_supply")}
    assert water.deadline_at - water.received_at == dt.timedelta(hours=2)


@pytest.mark.django_db
def test_bulk_rows_get_what_the_database_engine_answers_for_each_point(tmp_path):
    rows = good_rows(60, prefix="R")
    path = write_csv(tmp_path / "r.csv", rows)
    complaints_import(source=path, by=SYSTEM)
    for complaint in Complaint.objects.all():
        day = complaint.received_at.astimezone(LOCAL_TZ).date()
        verdict = jurisdiction_lookup(point=complaint.location, at=day, accuracy_m=complaint.accuracy_m)
        assert complaint.street_code == (verdict.street.code if verdict.street else ""), complaint.external_id
        assert complaint.lead_code == (verdict.lead.code if verdict.lead else ""), complaint.external_id


@pytest.mark.django_db
def test_geojson_and_geopackage_with_gcj02_and_a_non_point(tmp_path):
    points = street_points(6, seed=3)
    glon, glat = coords.wgs84_to_gcj02(points[:, 0], points[:, 1])
    geoms = [shapely.Point(x, y) for x, y in zip(glon, glat, strict=True)]
    geoms[4] = shapely.box(116.2, 39.9, 116.21, 39.91)  # row 5: not a point
    frame = gpd.GeoDataFrame(
        {
            "external_id": [f"G{i}" for i in range(6)],
            "received_at": ["2025-06-03 10:00:00"] * 6,  # no offset: Beijing time
            "category": ["020101"] * 6,
        },
        geometry=geoms,
        crs=4326,
    )
    for suffix, prefix in ((".geojson", "J"), (".gpkg", "P")):
        frame["external_id"] = [f"{prefix}{i}" for i in range(6)]
        path = tmp_path / f"complaints{suffix}"
        frame.to_file(path)
        record = complaints_import(source=path, crs="gcj02", by=SYSTEM)
        assert (record.rows_created, [e.row for e in record.row_errors.all()]) == (5, [5])
        first = Complaint.objects.get(external_id=f"{prefix}0")
        assert first.location.x == pytest.approx(points[0, 0], abs=1e-7)
        assert first.received_at == dt.datetime(2025, 6, 3, 2, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_command_writes_a_row_numbered_error_report(tmp_path):
    rows = good_rows(5, prefix="C")
    rows[1]["category"] = "x"
    path = write_csv(tmp_path / "c.csv", rows)
    report = tmp_path / "errors.csv"
    call_command("complaints_import", str(path), "--errors", str(report), "--no-progress", verbosity=0)
    lines = list(csv.reader(report.open(encoding="utf-8")))
    assert lines[0] == ["row", "external_id", "errors"] and lines[1][:2] == ["2", "C00001"]
    assert Complaint.objects.count() == 4
    with pytest.raises(Exception, match="missing columns"):
        (tmp_path / "bad.csv").write_text("id,when\n1,2\n")
        call_command("complaints_import", str(tmp_path / "bad.csv"), "--no-progress", verbosity=0)
    with pytest.raises(BulkImportError):
        complaints_import(source=tmp_path / "nothing.csv", by=SYSTEM)


@pytest.mark.django_db
def test_upload_api(tmp_path):
    rows = good_rows(4, prefix="U")
    rows[3]["lon"] = "east"
    path = write_csv(tmp_path / "u.csv", rows)
    demo_users_create()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    with path.open("rb") as handle:
        response = api.post("/api/v1/complaint-imports", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows_created"], body["rows_bad"]) == (3, 1) and body["errors"][0]["row"] == 4
    assert api.get(f"/api/v1/complaint-imports/{body['id']}").json()["errors"] == body["errors"]
    with (tmp_path / "x.txt").open("w") as handle:
        handle.write("x")
    with (tmp_path / "x.txt").open("rb") as handle:
        assert api.post("/api/v1/complaint-imports", {"file": handle}, format="multipart").status_code == 415


def test_killing_an_import_leaves_no_partial_batch_and_a_rerun_finishes_it(
    tmp_path, django_db_setup, django_db_blocker
):
    """A real import process is killed (SIGKILL) midway; committed batches are whole; a re-run completes it."""
    prefix, total, batch = "KILL", 40_000, 1_000

    def cleanup():
        Complaint.objects.filter(external_id__startswith=prefix).delete()
        BulkImport.objects.filter(source_name="kill.csv").delete()

    with django_db_blocker.unblock():
        cleanup()
        points = street_points(50)
        rows = [
            {
                "external_id": f"{prefix}{i:06d}",
                "received_at": "2025-06-03T10:00:00+08:00",
                "category": "020101",
                "lon": f"{points[i % 50, 0]:.7f}",
                "lat": f"{points[i % 50, 1]:.7f}",
            }
            for i in range(total)
        ]
        path = write_csv(tmp_path / "kill.csv", rows)
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        }
        command = [
            sys.executable,
            "manage.py",
            "complaints_import",
            str(path),
            "--batch-size",
            str(batch),
            "--no-progress",
        ]
        try:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                record = BulkImport.objects.filter(source_name="kill.csv").first()
                if record is not None and record.batches_done >= 3:
                    break
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-3000:]
            record = BulkImport.objects.get(source_name="kill.csv")
            stored = Complaint.objects.filter(external_id__startswith=prefix).count()
            assert 0 < stored < total, "the import was not stopped midway"
            assert stored == record.rows_created == record.batches_done * batch  # whole batches only
            assert StatusChange.objects.filter(complaint__external_id__startswith=prefix).count() == stored
            assert record.state == "running"  # it never finished

            rerun = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, timeout=600)
            assert rerun.returncode == 0, rerun.stderr.decode()
            final = BulkImport.objects.filter(source_name="kill.csv").order_by("-id").first()
            assert (final.rows_existing, final.rows_created) == (stored, total - stored)
            assert Complaint.objects.filter(external_id__startswith=prefix).count() == total
        finally:
            if "process" in locals() and process.poll() is None:
                process.kill()
            cleanup()


@pytest.mark.django_db
def test_rows_in_buildings_rules_and_wide_circles_get_the_full_engine_verdict(tmp_path):
    """A row in a straddling building is led by the larger share with a copy to the other street; a rule's area
    is decided by the rule; an accuracy circle over a boundary gets fractions; elsewhere geometry decides."""
    building = Building.objects.get(code="SYN-B-0001")
    in_building = building.geom.point_on_surface
    lugu = Area.objects.current(dt.date(2025, 6, 1)).get(code=LUGU)
    lugu_shape = shapely.from_wkb(bytes(lugu.geom.wkb))
    # A point 30 m inside 鲁谷's edge (a 200 m circle crosses it) and one at 鲁谷's deepest point (it does not).
    deep, edge_xy = shapely.maximum_inscribed_circle(lugu_shape).coords
    near_edge = shapely.line_interpolate_point(shapely.LineString([edge_xy, deep]), 30 / 111_000)
    rule_spot = shapely.Point(deep).buffer(0.001)
    other = next(a for a in Area.objects.current(dt.date(2025, 6, 1)).filter(parent__code="110107") if a.code != LUGU)
    rule_create(
        lead_code=other.code,
        geom=GEOSGeometry(rule_spot.wkt, srid=4326),
        valid_from=dt.date(2025, 6, 10),
        reason="测试规则 test rule",
        author="test",
    )
    rows = good_rows(6, prefix="E")
    spots = {
        0: (in_building.x, in_building.y, ""),
        1: (near_edge.x, near_edge.y, "200"),
        2: (deep[0], deep[1], "200"),
        3: (deep[0], deep[1], ""),  # received 2025-06-04: before the rule
        4: (deep[0], deep[1], ""),  # received 2025-06-05 … set below to after the rule
    }
    for i, (x, y, accuracy) in spots.items():
        rows[i].update(lon=f"{x:.9f}", lat=f"{y:.9f}", accuracy_m=accuracy, category="020101")
    rows[4]["received_at"] = "2025-06-20T10:00:00+08:00"
    # Not overlapped: the preparing thread's own connection would not see the rule made in this test's transaction.
    complaints_import(source=write_csv(tmp_path / "engine.csv", rows), batch_size=4, overlap=False, by=SYSTEM)

    def stored(i):
        return Complaint.objects.get(external_id=rows[i]["external_id"])

    for i in range(6):
        complaint = stored(i)
        day = dt.datetime.fromisoformat(rows[i]["received_at"]).date()
        accuracy = float(rows[i]["accuracy_m"]) if rows[i].get("accuracy_m") else None
        expected = jurisdiction_lookup(point=complaint.location, at=day, accuracy_m=accuracy).as_dict()
        verdict = complaint_verdict(complaint)
        assert verdict["method"] == expected["method"], i
        assert verdict["lead"] == expected["lead"] and verdict["co_handlers"] == expected["co_handlers"], i
        assert complaint.lead_code == expected["lead"]["code"] and complaint.needs_review == expected["needs_review"]
        assignments = set(Assignment.objects.filter(complaint=complaint).values_list("role", "area_code"))
        assert ("lead", expected["lead"]["code"]) in assignments
        assert {code for role, code in assignments if role == "co_handler"} == {
            c["code"] for c in expected["co_handlers"]
        }
    assert stored(0).verdict_method == "building" and stored(0).verdict["building"]["code"] == "SYN-B-0001"
    assert len(stored(0).verdict["co_handlers"]) == 1
    assert stored(1).verdict_method == "uncertain" and len(stored(1).verdict["candidates"]) >= 2
    assert stored(2).verdict_method == "point" and stored(2).lead_code == LUGU
    assert stored(3).lead_code == LUGU and stored(4).verdict_method == "rule" and stored(4).lead_code == other.code
