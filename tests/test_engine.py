"""The jurisdiction engine: buildings, uncertainty, rules, generations, re-resolution, topology."""

import datetime as dt

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.management import call_command
from django.urls import reverse
from pyproj import CRS, Transformer

from geo.validation import polygonal
from jurisdictions.models import Area, Building, BuildingShare, Generation, Rule, VerdictRecord
from jurisdictions.selectors import jurisdiction_lookup, topology_check
from jurisdictions.services import (
    FieldMap,
    RuleError,
    boundaries_import,
    buildings_import,
    generation_activate,
    rule_create,
    rule_end,
    verdict_record,
    verdicts_reresolve,
)

from .conftest import square, write_geojson

DAY = dt.date(2100, 6, 1)
TO_UTM = Transformer.from_crs(4326, 32650, always_xy=True)


def _buildings(tmp_path, *features):
    path = write_geojson(tmp_path / "buildings.geojson", list(features))
    return buildings_import(source=path, synthetic=True, commit=True)


def _box_m(lon, lat, west_m, east_m, half_height_m=10.0):
    """A box around (lon, lat) reaching west_m metres west and east_m east (near the equator)."""
    d = 1 / 111_320.0
    return shapely.box(lon - west_m * d, lat - half_height_m * d, lon + east_m * d, lat + half_height_m * d)


def _equal_area_shares(building, areas):
    """Independent check: shares in a Lambert azimuthal equal-area projection centred on the building."""
    c = building.centroid
    laea = CRS.from_proj4(f"+proj=laea +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    to = Transformer.from_crs(4326, laea, always_xy=True)

    def project(g):
        return shapely.transform(g, lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1])))

    total = project(building).area
    return {code: project(building.intersection(geom)).area / total for code, geom in areas.items()}


def test_straddling_building_shares_sum_to_one_and_match_equal_area(grid_areas, tmp_path):
    footprint = _box_m(1.0, 0.5, west_m=30, east_m=12)
    _buildings(tmp_path, ({"code": "B1", "name": "跨界楼"}, footprint))
    generation = Generation.objects.get(name="test-grid")
    shares = {
        s.area.code: s.share
        for s in BuildingShare.objects.filter(building__code="B1", generation=generation).select_related("area")
    }
    assert sum(v for k, v in shares.items() if len(k) == 9) == pytest.approx(1.0, abs=1e-9)
    assert sum(v for k, v in shares.items() if len(k) == 6) == pytest.approx(1.0, abs=1e-9)
    expected = _equal_area_shares(
        footprint,
        {"900001002": shapely.box(0.5, 0, 1, 1), "900002001": shapely.box(1, 0, 1.5, 1)},
    )
    for code, share in expected.items():
        assert shares[code] == pytest.approx(share, rel=1e-3)
    assert shares["900001002"] == pytest.approx(30 / 42, rel=1e-3)


def test_point_in_a_straddling_building_is_decided_by_the_building(client, grid_areas, tmp_path):
    _buildings(tmp_path, ({"code": "B1", "name": "跨界楼"}, _box_m(1.0, 0.5, west_m=12, east_m=30)))
    # The point itself lies in 900001 (west of x = 1), but most of the building is in 900002.
    body = client.get(reverse("jurisdiction"), {"lon": 0.99995, "lat": 0.5, "at": DAY}).json()
    assert body["method"] == "building"
    assert body["lead"]["code"] == "900002001"
    assert body["district"]["code"] == "900002"
    assert [c["code"] for c in body["co_handlers"]] == ["900001002"]
    assert body["building"]["code"] == "B1"
    assert "跨区建筑" in " ".join(body["reasons"])


def test_small_shares_are_not_co_handlers_and_ties_go_to_the_lowest_code(grid_areas, tmp_path):
    _buildings(
        tmp_path,
        ({"code": "B-small"}, _box_m(1.0, 0.3, west_m=97, east_m=3)),  # 3 % east: below the 5 % threshold
        ({"code": "B-tie"}, _box_m(1.0, 0.7, west_m=20, east_m=20)),
    )
    small = jurisdiction_lookup(point=Point(0.9995, 0.3, srid=4326), at=DAY)
    assert small.method == "building"
    assert small.lead.code == "900001002"
    assert small.co_handlers == []
    tie = jurisdiction_lookup(point=Point(1.0001, 0.7, srid=4326), at=DAY)
    assert tie.lead.code == "900001002"  # 50/50: lowest code leads
    assert [c.code for c in tie.co_handlers] == ["900002001"]


def test_building_import_validates_like_boundaries(db, tmp_path):
    path = write_geojson(
        tmp_path / "b.geojson",
        [
            ({"code": "X1"}, square(0, 0, 0.001)),
            ({"code": "X1"}, square(0.01, 0, 0.001)),
            ({"code": None}, square(0.02, 0, 0.001)),
            ({"code": "X2"}, shapely.Polygon([(0, 0), (0.001, 0.001), (0.001, 0), (0, 0.001), (0, 0)])),
        ],
    )
    report = buildings_import(source=path)
    assert sorted({f.kind for f in report.findings}) == ["bad_feature", "duplicate_code", "invalid_ring"]
    before = Building.objects.count()
    with pytest.raises(Exception, match="nothing was written"):
        buildings_import(source=path, commit=True)
    assert Building.objects.count() == before


def test_uncertainty_circle_lists_fractions_and_asks_for_review(client, grid_areas):
    near_line = client.get(reverse("jurisdiction"), {"lon": 0.9995, "lat": 0.5, "accuracy_m": 300, "at": DAY}).json()
    assert near_line["method"] == "uncertain"
    assert near_line["lead"]["code"] == "900001002"  # the street the point is in still leads
    streets = {c["code"]: c for c in near_line["candidates"] if c["level"] == "street"}
    assert set(streets) == {"900001002", "900002001"}
    assert sum(c["fraction"] for c in streets.values()) == pytest.approx(1.0, abs=1e-3)
    assert streets["900002001"]["distance_m"] == pytest.approx(55.7, abs=1.0)
    assert streets["900001002"]["fraction"] < 0.8
    assert near_line["needs_review"] is True
    # A circle that only just crosses the line keeps most of its area: lead confident, no review.
    confident = jurisdiction_lookup(point=Point(0.9985, 0.5, srid=4326), at=DAY, accuracy_m=200)
    assert confident.method == "uncertain"
    assert confident.needs_review is False
    inside = jurisdiction_lookup(point=Point(0.75, 0.5, srid=4326), at=DAY, accuracy_m=100)
    assert inside.method == "point"
    assert inside.needs_review is False


def test_bad_accuracy_is_400(client, db):
    response = client.get(reverse("jurisdiction"), {"lon": 116.4, "lat": 39.9, "accuracy_m": "-3"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_accuracy"


def test_rule_overrides_geometry_only_while_valid(client, grid_areas, capsys):
    rule = rule_create(
        lead_code="900002001",
        co_handler_codes=["900001002"],
        geom=GEOSGeometry(shapely.box(0.8, 0.4, 0.9, 0.6).wkt, srid=4326),
        valid_from=dt.date(2100, 3, 1),
        valid_to=dt.date(2100, 9, 1),
        reason="经两区协商，由乙街道牵头",
        author="区城管委",
        ruling_ref="dispute:7",
    )
    during = client.get(reverse("jurisdiction"), {"lon": 0.85, "lat": 0.5, "at": "2100-06-01"}).json()
    assert during["method"] == "rule"
    assert during["lead"]["code"] == "900002001"
    assert during["district"]["code"] == "900002"
    assert during["rule"]["id"] == rule.pk and during["rule"]["ruling_ref"] == "dispute:7"
    for day in ("2100-02-28", "2100-09-01"):
        outside_dates = client.get(reverse("jurisdiction"), {"lon": 0.85, "lat": 0.5, "at": day}).json()
        assert outside_dates["method"] == "point"
        assert outside_dates["lead"]["code"] == "900001002"
    call_command("rules_list", "--on", "2100-06-01")
    assert "dispute:7" in capsys.readouterr().out
    rule_end(rule=rule, valid_to=dt.date(2100, 5, 1))
    assert jurisdiction_lookup(point=Point(0.85, 0.5, srid=4326), at=DAY).method == "point"
    assert Rule.objects.filter(pk=rule.pk).exists()  # ended, not deleted


def test_rule_on_a_building_and_later_rules_win(grid_areas, tmp_path):
    _buildings(tmp_path, ({"code": "B9"}, _box_m(0.7, 0.5, 10, 10)))
    building = Building.objects.get(code="B9")
    common = dict(building=building, valid_from=dt.date(2100, 1, 1), reason="裁定", author="市级")
    rule_create(lead_code="900003001", **common)
    rule_create(lead_code="900004002", **{**common, "valid_from": dt.date(2100, 4, 1)})
    verdict = jurisdiction_lookup(point=Point(0.7, 0.5, srid=4326), at=DAY)
    assert verdict.method == "rule"
    assert verdict.lead.code == "900004002"
    assert verdict.rule["building"] == "B9"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lead_code": "999999999"}, "unknown area codes"),
        ({"lead_code": "900001001", "building": None, "geom": None}, "exactly one"),
        ({"lead_code": "900001001", "valid_from": dt.date(1990, 1, 1)}, "no boundary generation"),
    ],
)
def test_rule_errors(grid_areas, kwargs, message):
    base = dict(
        geom=GEOSGeometry(shapely.box(0, 0, 0.1, 0.1).wkt, srid=4326),
        valid_from=dt.date(2100, 1, 1),
        reason="r",
        author="a",
    )
    with pytest.raises(RuleError, match=message):
        rule_create(**{**base, **kwargs})


def _import_generation(tmp_path, name, split_x, valid_from):
    """The grid again, but district 900001 split into streets at x = split_x."""
    districts = [
        ({"code": f"90000{i}", "name": f"测试区{i}"}, square(x, y))
        for i, (x, y) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1)
    ]
    streets = []
    for i, (x, y) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        cut = x + (split_x if i == 1 else 0.5)
        streets.append(
            ({"code": f"90000{i}001", "name": f"新{i}西", "parent_code": f"90000{i}"}, shapely.box(x, y, cut, y + 1))
        )
        streets.append(
            (
                {"code": f"90000{i}002", "name": f"新{i}东", "parent_code": f"90000{i}"},
                shapely.box(cut, y, x + 1, y + 1),
            )
        )
    common = dict(generation=name, valid_from=valid_from, fields=FieldMap(), commit=True)
    boundaries_import(source=write_geojson(tmp_path / f"{name}-d.geojson", districts), level="district", **common)
    boundaries_import(source=write_geojson(tmp_path / f"{name}-s.geojson", streets), level="street", **common)
    return Generation.objects.get(name=name)


def test_new_generation_is_inactive_until_activated_and_at_picks_the_right_one(client, grid_areas, tmp_path):
    new = _import_generation(tmp_path, "test-grid-2101", split_x=0.25, valid_from=dt.date(2101, 1, 1))
    assert not new.active
    params = {"lon": 0.4, "lat": 0.5}
    before_activation = client.get(reverse("jurisdiction"), {**params, "at": "2101-06-01"}).json()
    assert before_activation["generation"]["name"] == "test-grid"
    call_command("generation_activate", "test-grid-2101", "--from", "2101-01-01")
    old = client.get(reverse("jurisdiction"), {**params, "at": "2100-12-31"}).json()
    later = client.get(reverse("jurisdiction"), {**params, "at": "2101-01-01"}).json()
    assert old["generation"]["name"] == "test-grid" and old["street"]["code"] == "900001001"
    assert later["generation"]["name"] == "test-grid-2101" and later["street"]["code"] == "900001002"
    assert Generation.objects.get(name="test-grid").valid_to == dt.date(2101, 1, 1)


def test_reresolve_reports_moves_and_writes_only_with_commit(grid_areas, tmp_path, capsys):
    points = {"c:1": (0.4, 0.5), "c:2": (0.1, 0.5), "c:3": (1.7, 1.5)}
    for ref, (lon, lat) in points.items():
        verdict_record(subject_ref=ref, verdict=jurisdiction_lookup(point=Point(lon, lat, srid=4326), at=DAY))
    new = _import_generation(tmp_path, "test-grid-2101", split_x=0.25, valid_from=dt.date(2101, 1, 1))
    generation_activate(generation=new, valid_from=new.valid_from)
    before = VerdictRecord.objects.count()
    report = verdicts_reresolve(generation=new)
    assert report.checked == 3
    assert report.moved == [{"subject_ref": "c:1", "from": "900001001", "to": "900001002"}]
    assert report.by_street == {"900001001": {"out": 1, "in": 0}, "900001002": {"out": 0, "in": 1}}
    assert VerdictRecord.objects.count() == before
    call_command("verdicts_reresolve", "test-grid-2101", "--commit")
    assert "c:1: 900001001 → 900001002" in capsys.readouterr().out
    current = VerdictRecord.objects.not_superseded().get(subject_ref="c:1")
    assert current.generation == new and current.lead_code == "900001002"
    assert current.supersedes.lead_code == "900001001"  # the old verdict is kept


def _multi(geom) -> GEOSGeometry:
    return GEOSGeometry(memoryview(polygonal(geom).wkb), srid=4326)


def _corrupt_copy(generation_name):
    """Copy the demo's 西城区 and its streets into a new generation, then break two streets."""
    demo = Generation.objects.get(name="beijing-demo")
    copy = Generation.objects.create(name=generation_name, valid_from=dt.date(2102, 1, 1))
    xicheng = Area.objects.in_generation(demo).get(code="110102")
    parent = Area.objects.create(
        generation_low=copy, generation_high=copy, level="district", code="110102", name="西城区", geom=xicheng.geom
    )
    parent_shape = shapely.from_wkb(bytes(xicheng.geom.wkb))
    for street in Area.objects.in_generation(demo).filter(parent=xicheng):
        geom = shapely.from_wkb(bytes(street.geom.wkb))
        if street.name == "月坛街道":  # grown by ~100 m inside the district: overlaps its neighbours
            geom = geom.buffer(0.001).intersection(parent_shape)
        if street.name == "牛街街道":  # a ~200 m hole: a gap under 西城区
            hole = geom.representative_point().buffer(0.002)
            geom = geom.difference(hole)
        Area.objects.create(
            generation_low=copy,
            generation_high=copy,
            level="street",
            code=street.code,
            name=street.name,
            parent=parent,
            geom=_multi(geom),
        )
    return copy, hole


def test_validator_finds_injected_gap_and_overlap(client, db):
    copy, hole = _corrupt_copy("broken-copy")
    findings = topology_check(generation=copy)
    kinds = sorted({f.kind for f in findings})
    assert kinds == ["gap", "overlap"]
    overlaps = [f for f in findings if f.kind == "overlap"]
    assert all("110102" in code for f in overlaps for code in f.codes)
    assert any("月坛街道" in f.message for f in overlaps)
    gap = next(f for f in findings if f.kind == "gap")
    hole_m2 = shapely.transform(hole, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1]))).area
    assert gap.area_m2 == pytest.approx(hole_m2, rel=0.01)
    assert hole.contains(gap.geometry.representative_point())
    # The same findings over the API, as GeoJSON with geometry.
    body = client.get(reverse("topology"), {"generation": "broken-copy"}).json()
    assert {f["properties"]["kind"] for f in body["features"]} == {"gap", "overlap"}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in body["features"])


def test_the_demo_generation_is_topologically_clean(client, db):
    body = client.get(reverse("topology")).json()
    assert body["generation"] == "beijing-demo"
    assert body["features"] == []


def test_demo_has_the_straddling_building_on_the_guangwai_taipingqiao_line(db):
    building = Building.objects.get(code="SYN-B-0001")
    assert building.synthetic
    centre = building.geom.point_on_surface
    verdict = jurisdiction_lookup(point=centre)
    assert verdict.method == "building"
    assert {verdict.lead.name, *[c.name for c in verdict.co_handlers]} == {"广安门外街道", "太平桥街道"}
    assert Building.objects.count() >= 300
