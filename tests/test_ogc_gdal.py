"""The real client: GDAL's OAPIF driver (Debian gdal-bin) reads /ogc/ from a live server, page after page.

The server is Django's LiveServerThread on 127.0.0.1 reading the committed demo data (as the browser tests do:
pytest-django's `live_server` would empty every table after the test, and the session's Beijing demo with them).
The complaints GDAL reads with a token are committed here and removed again afterwards.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

GDAL = shutil.which("ogr2ogr")
pytestmark = pytest.mark.skipif(GDAL is None, reason="GDAL (gdal-bin) is not installed; make test installs it")
TAG = "ogc-gdal-"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """Base URL of a live server, with the demo accounts and a few complaints committed for the token test."""
    from django.test.testcases import LiveServerThread

    from complaints.models import Category, Complaint
    from jurisdictions.demo import demo_users_create
    from jurisdictions.models import Area

    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)
        demo_users_create()
        Complaint.objects.filter(external_id__startswith=TAG).delete()
        category = Category.objects.filter(level=3).order_by("code").first()
        streets = list(Area.objects.current().of_level("street").order_by("code")[:25])
        Complaint.objects.bulk_create(
            Complaint(
                external_id=f"{TAG}{i}",
                received_at=dt.datetime(2025, 5, 6, 9, i, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                category=category,
                location=area.geom.point_on_surface,
                status="dispatched",
                district_code=area.parent.code,
                street_code=area.code,
                lead_code=area.code,
            )
            for i, area in enumerate(streets)
        )
        thread = LiveServerThread("127.0.0.1", lambda handler: handler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            yield f"http://127.0.0.1:{thread.port}"
        finally:
            thread.terminate()
            Complaint.objects.filter(external_id__startswith=TAG).delete()


def gdal(*args: str, headers: str | None = None) -> subprocess.CompletedProcess:
    config = ["--config", "GDAL_HTTP_HEADERS", headers] if headers else []
    return subprocess.run([args[0], *config, *args[1:]], capture_output=True, text=True, timeout=300, check=False)


def test_ogrinfo_lists_the_public_collections(server):
    result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server}/ogc/")
    assert result.returncode == 0, result.stderr
    for name in ("districts", "streets", "buildings", "hotspots", "emerging", "repeat-places", "idle-lots"):
        assert f": {name} (" in result.stdout
    assert "complaints" not in result.stdout


def test_ogr2ogr_copies_every_street_following_the_next_links(server, tmp_path: Path, django_db_blocker):
    from jurisdictions.models import Area

    with django_db_blocker.unblock():
        expected = Area.objects.current().of_level("street").count()
    out = tmp_path / "streets.gpkg"
    # GDAL asks for 10 features a page by default: the copy takes every `next` link there is.
    result = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{server}/ogc", "streets")
    assert result.returncode == 0, result.stderr
    info = gdal("ogrinfo", "-ro", "-so", str(out), "streets")
    assert f"Feature Count: {expected}" in info.stdout
    assert "code: String" in info.stdout and "synthetic: Integer(Boolean)" in info.stdout
    assert "Geometry: Multi Polygon" in info.stdout
    codes = gdal("ogrinfo", "-ro", "-q", "-sql", "SELECT COUNT(DISTINCT code) AS n FROM streets", str(out))
    assert f"n (Integer) = {expected}" in codes.stdout


def test_complaints_need_a_token_and_then_come_whole(server, tmp_path: Path, django_db_blocker):
    from complaints.models import Complaint

    with django_db_blocker.unblock():
        expected = Complaint.objects.count()
    anonymous = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server}/ogc", "complaints")
    assert anonymous.returncode != 0
    out = tmp_path / "complaints.gpkg"
    token = "Authorization: Token shaozidemo000000000000000000000000000001"
    result = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{server}/ogc", "complaints", headers=token)
    assert result.returncode == 0, result.stderr
    info = gdal("ogrinfo", "-ro", "-so", str(out), "complaints")
    assert expected >= 25 and f"Feature Count: {expected}" in info.stdout
    assert "received_at: DateTime" in info.stdout and "Geometry: Point" in info.stdout
