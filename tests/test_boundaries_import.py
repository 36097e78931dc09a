import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command

from geo import coords
from jurisdictions.models import Area, AreaPiece, Generation
from jurisdictions.services import BoundaryImportError, FieldMap, boundaries_import

from .conftest import square, write_geojson

VALID_FROM = dt.date(2100, 1, 1)


def _import(source, *, commit=False, level="district", generation="test-import", **kwargs):
    return boundaries_import(
        source=source, generation=generation, valid_from=VALID_FROM, level=level, commit=commit, **kwargs
    )


def _kinds(report):
    return sorted({f.kind for f in report.findings})


def _counts():
    return Area.objects.count(), AreaPiece.objects.count(), Generation.objects.count()


@pytest.fixture
def two_districts(tmp_path):
    return write_geojson(
        tmp_path / "two.geojson",
        [({"code": "900001", "name": "甲区"}, square(0, 0)), ({"code": "900002", "name": "乙区"}, square(1, 0))],
    )


def test_dry_run_reports_and_writes_nothing(db, two_districts):
    before = _counts()
    report = _import(two_districts)
    assert not report.committed
    assert report.features == 2
    assert report.errors == []
    assert _counts() == before
    assert "dry run" in report.summary()


def test_commit_writes_areas_generation_and_pieces(db, two_districts):
    report = _import(two_districts, commit=True)
    assert report.committed
    generation = Generation.objects.get(name="test-import")
    assert generation.valid_from == VALID_FROM
    areas = Area.objects.in_generation(generation)
    assert sorted(areas.values_list("code", flat=True)) == ["900001", "900002"]
    assert AreaPiece.objects.filter(area__in=areas).count() == report.pieces >= 2


def test_command_dry_run_then_commit(db, two_districts, capsys):
    before = _counts()
    call_command("boundaries_import", str(two_districts), "--generation", "cmd", "--level", "district")
    assert _counts() == before
    assert "dry run" in capsys.readouterr().out
    call_command(
        "boundaries_import",
        str(two_districts),
        "--generation",
        "cmd",
        "--valid-from",
        "2100-01-01",
        "--level",
        "district",
        "--commit",
    )
    assert Area.objects.filter(generation_low__name="cmd").count() == 2


def test_invalid_ring_is_repaired_and_listed(db, tmp_path):
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    assert not bowtie.is_valid
    source = write_geojson(tmp_path / "bowtie.geojson", [({"code": "900001", "name": "蝴蝶区"}, bowtie)])
    report = _import(source, commit=True)
    assert _kinds(report) == ["invalid_ring"]
    assert report.findings[0].severity == "warning"
    assert "Self-intersection" in report.findings[0].message
    area = Area.objects.get(code="900001", generation_low__name="test-import")
    assert area.geom.valid
    assert area.geom.area == pytest.approx(0.5)


def test_overlap_between_siblings_is_an_error(db, tmp_path):
    source = write_geojson(
        tmp_path / "overlap.geojson",
        [({"code": "900001", "name": "甲区"}, square(0, 0)), ({"code": "900002", "name": "乙区"}, square(0.9, 0))],
    )
    report = _import(source)
    assert _kinds(report) == ["overlap"]
    overlap = report.findings[0]
    assert overlap.codes == ["900001", "900002"]
    assert overlap.area_m2 == pytest.approx(0.1 * 111_320 * 110_574, rel=0.02)


def test_gap_enclosed_by_siblings_is_an_error(db, tmp_path):
    ring = square(0, 0, 3).difference(square(1, 1))
    source = write_geojson(
        tmp_path / "gap.geojson",
        [
            ({"code": "900001", "name": "环区"}, ring.intersection(shapely.box(0, 0, 1.5, 3))),
            ({"code": "900002", "name": "乙区"}, ring.intersection(shapely.box(1.5, 0, 3, 3))),
        ],
    )
    report = _import(source)
    assert _kinds(report) == ["gap"]


def test_gap_under_parent_and_child_outside_parent(db, tmp_path):
    source = write_geojson(
        tmp_path / "mixed.geojson",
        [
            ({"code": "900001", "name": "父区", "level": "district", "parent_code": None}, square(0, 0)),
            # Covers only the western half, and sticks out 0.1° to the west: a gap and an outside part.
            (
                {"code": "900001001", "name": "子街道", "level": "street", "parent_code": "900001"},
                shapely.box(-0.1, 0, 0.5, 1),
            ),
        ],
    )
    report = _import(source, level=None, fields=FieldMap(level="level"))
    assert _kinds(report) == ["gap", "outside_parent"]
    with pytest.raises(BoundaryImportError):
        _import(source, level=None, fields=FieldMap(level="level"), commit=True)


def test_duplicate_codes_in_the_source_and_in_the_generation(db, tmp_path, two_districts):
    dupes = write_geojson(
        tmp_path / "dupes.geojson",
        [({"code": "900001", "name": "甲区"}, square(0, 0)), ({"code": "900001", "name": "又甲区"}, square(1, 0))],
    )
    report = _import(dupes)
    assert _kinds(report) == ["duplicate_code"]
    assert report.findings[0].rows == [1, 2]
    _import(two_districts, commit=True)
    again = _import(two_districts)
    assert _kinds(again) == ["duplicate_code"]
    assert "already exists" in again.findings[0].message


def test_missing_parent_and_bad_features_are_errors(db, tmp_path):
    source = write_geojson(
        tmp_path / "orphans.geojson",
        [
            ({"code": "900009001", "name": "孤儿街道", "parent_code": "900009"}, square(0, 0)),
            ({"code": "900009002", "name": "无形街道", "parent_code": "900009"}, None),
            ({"code": None, "name": "无码街道", "parent_code": "900009"}, shapely.LineString([(0, 0), (1, 1)])),
        ],
    )
    report = _import(source, level="street")
    assert {"missing_parent", "bad_feature"} <= set(_kinds(report))
    bad = [f for f in report.findings if f.kind == "bad_feature"]
    assert sorted(r for f in bad for r in f.rows) == [2, 3]


def test_failed_import_writes_nothing_not_even_the_valid_rows(db, tmp_path):
    source = write_geojson(
        tmp_path / "partly.geojson",
        [
            ({"code": "900001", "name": "好区"}, square(0, 0)),
            ({"code": "900002", "name": "重叠区"}, square(0.5, 0)),
            ({"code": "900003", "name": "另一好区"}, square(5, 5)),
        ],
    )
    before = _counts()
    with pytest.raises(BoundaryImportError) as raised:
        _import(source, commit=True)
    assert raised.value.report.errors
    assert _counts() == before
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("boundaries_import", str(source), "--generation", "cmd-fail", "--level", "district", "--commit")
    assert _counts() == before


def test_gcj02_source_is_de_shifted_on_import(db, tmp_path):
    # A small square around 天安门 given in GCJ-02, as Amap would publish it.
    wgs = shapely.box(116.390, 39.900, 116.400, 39.910)
    gcj = shapely.transform(wgs, lambda xy: np.column_stack(coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    source = write_geojson(tmp_path / "gcj.geojson", [({"code": "900001", "name": "纠偏区"}, gcj)])
    _import(source, crs="gcj02", commit=True)
    stored = Area.objects.get(code="900001", generation_low__name="test-import").geom
    assert stored.extent == pytest.approx(wgs.bounds, abs=1e-7)


@pytest.mark.parametrize(("suffix", "driver"), [(".shp", "ESRI Shapefile"), (".gpkg", "GPKG")])
def test_shapefile_and_geopackage_sources_with_field_mapping(db, tmp_path, suffix, driver):
    frame = gpd.GeoDataFrame(
        {"ADCODE": ["900001", "900002"], "MC": ["甲区", "乙区"]},
        geometry=[square(0, 0), square(1, 0)],
        crs="EPSG:4326",
    ).to_crs(32631)
    path = tmp_path / f"areas{suffix}"
    frame.to_file(path, driver=driver, engine="pyogrio")
    report = _import(path, fields=FieldMap(code="ADCODE", name="MC", parent=None), commit=True)
    assert report.errors == []
    names = dict(Area.objects.filter(generation_low__name="test-import").values_list("code", "name"))
    assert names == {"900001": "甲区", "900002": "乙区"}
    # The projected source came back to WGS-84.
    assert Area.objects.get(code="900002", generation_low__name="test-import").geom.extent == pytest.approx(
        (1, 0, 2, 1), abs=1e-6
    )


def test_unknown_field_and_missing_file_are_clear_errors(db, two_districts, tmp_path):
    with pytest.raises(BoundaryImportError, match="no field 'CODE'"):
        _import(two_districts, fields=FieldMap(code="CODE"))
    with pytest.raises(BoundaryImportError, match="file not found"):
        _import(tmp_path / "nope.geojson")
    not_gis = tmp_path / "notes.geojson"
    not_gis.write_text("this is not GeoJSON", encoding="utf-8")
    with pytest.raises(BoundaryImportError, match="cannot read"):
        _import(not_gis)
