import datetime as dt
import json
from pathlib import Path

import pytest
import shapely
from django.core.management import call_command

from jurisdictions.services import FieldMap, boundaries_import

# Literal test areas live in a far-future generation so they never mix with the Beijing demo.
TEST_DAY = dt.date(2100, 6, 1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database gets the Beijing demo once per session (through the real importers)."""
    with django_db_blocker.unblock():
        call_command("demo_load", "--if-empty", verbosity=0)
        call_command("gazetteer_demo_load", "--if-empty", verbosity=0)
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


def square(x0, y0, size=1.0):
    return shapely.box(x0, y0, x0 + size, y0 + size)


def write_geojson(path: Path, features: list[tuple[dict, object]]) -> Path:
    """Write (properties, shapely geometry) pairs as a GeoJSON FeatureCollection."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
            }
            for props, geom in features
        ],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def grid_areas(db, tmp_path):
    """Four 1°×1° districts meeting at (1, 1) (on the equator, outside China), each split into two streets.

    District codes 900001..900004; streets 900001001/900001002 … split at x = x0 + 0.5.
    """
    districts, streets = [], []
    for i, (x0, y0) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        code = f"90000{i}"
        districts.append(({"code": code, "name": f"测试区{i}"}, square(x0, y0)))
        streets.append(
            (
                {"code": f"{code}001", "name": f"测试{i}西街道", "parent_code": code},
                shapely.box(x0, y0, x0 + 0.5, y0 + 1),
            )
        )
        streets.append(
            (
                {"code": f"{code}002", "name": f"测试{i}东街道", "parent_code": code},
                shapely.box(x0 + 0.5, y0, x0 + 1, y0 + 1),
            )
        )
    d = write_geojson(tmp_path / "districts.geojson", districts)
    s = write_geojson(tmp_path / "streets.geojson", streets)
    common = dict(generation="test-grid", valid_from=dt.date(2100, 1, 1), fields=FieldMap(), commit=True, activate=True)
    boundaries_import(source=d, level="district", **common)
    boundaries_import(source=s, level="street", **common)
    return TEST_DAY
