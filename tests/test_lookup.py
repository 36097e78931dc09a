import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from jurisdictions.models import Area
from jurisdictions.selectors import jurisdiction_lookup


def _lookup(client, **params):
    return client.get(reverse("jurisdiction"), params)


def _codes(verdict):
    return sorted(c["code"] for c in verdict["candidates"])


def test_point_inside_a_street(client, grid_areas):
    body = _lookup(client, lon=0.25, lat=0.5, at=grid_areas).json()
    assert body["district"] == {"code": "900001", "name": "测试区1", "level": "district"}
    assert body["street"]["code"] == "900001001"
    assert body["on_boundary"] is False
    assert body["method"] == "point"
    assert body["generation"]["name"] == "test-grid"
    assert body["point"] == {"type": "Point", "coordinates": [0.25, 0.5]}


def test_point_on_a_shared_district_edge_lists_both(client, grid_areas):
    body = _lookup(client, lon=1.0, lat=0.5, at=grid_areas).json()
    assert body["on_boundary"] is True
    assert _codes(body) == ["900001", "900001002", "900002", "900002001"]
    assert body["district"]["code"] == "900001"  # lowest code leads until rules decide
    assert body["street"]["code"] == "900001002"  # the lead district's own street


def test_point_on_a_street_edge_inside_one_district(client, grid_areas):
    body = _lookup(client, lon=0.5, lat=0.5, at=grid_areas).json()
    assert body["on_boundary"] is True
    assert body["district"]["code"] == "900001"
    assert _codes(body) == ["900001", "900001001", "900001002"]


def test_point_on_the_vertex_where_four_districts_meet(client, grid_areas):
    body = _lookup(client, lon=1.0, lat=1.0, at=grid_areas).json()
    assert body["on_boundary"] is True
    districts = [c["code"] for c in body["candidates"] if c["level"] == "district"]
    assert districts == ["900001", "900002", "900003", "900004"]


def test_point_outside_every_area(client, grid_areas):
    response = _lookup(client, lon=5.0, lat=5.0, at=grid_areas)
    assert response.status_code == 200
    body = response.json()
    assert body["district"] is None
    assert body["street"] is None
    assert body["method"] == "outside"
    assert body["on_boundary"] is False


def test_lookup_uses_the_generation_in_force_on_the_date(client, grid_areas):
    # In 2050 only the Beijing demo generation is in force: the grid does not exist yet.
    body = _lookup(client, lon=0.25, lat=0.5, at="2050-01-01").json()
    assert body["generation"]["name"] == "beijing-demo"
    assert body["district"] is None
    body = _lookup(client, lon=0.25, lat=0.5, at="1999-01-01").json()
    assert body["generation"] is None
    assert body["district"] is None


def test_selector_directly_covers_edges(grid_areas):
    verdict = jurisdiction_lookup(point=Point(2.0, 0.5, srid=4326), at=grid_areas)
    assert verdict.district.code == "900002"  # the outer edge of the grid belongs to 900002 only
    assert verdict.on_boundary is False


def test_covering_queryset_uses_st_covers_so_edges_count(grid_areas):
    edge = Point(1.0, 0.25, srid=4326)
    covering = Area.objects.filter(generation_low__name="test-grid").covering(edge).of_level("district")
    assert sorted(covering.values_list("code", flat=True)) == ["900001", "900002"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "39.9"}, "lon"),
        ({"lon": "", "lat": "39.9"}, "lon"),
        ({"lon": "abc", "lat": "39.9"}, "lon"),
        ({"lon": "116.4", "lat": "NaN"}, "lat"),
        ({"lon": "inf", "lat": "39.9"}, "lon"),
        ({"lon": "-Infinity", "lat": "39.9"}, "lon"),
        ({"lon": "181", "lat": "39.9"}, "lon"),
        ({"lon": "116.4", "lat": "-90.5"}, "lat"),
        ({"lon": "116.4", "lat": "39.9", "crs": "mercator"}, "crs"),
    ],
)
def test_bad_coordinates_are_400_with_the_error_shape(client, db, params, field):
    response = _lookup(client, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == ("invalid_crs" if field == "crs" else "invalid_coordinates")  # crs: docs/api.md
    assert field in error["details"]
    assert error["message"]


def test_bad_date_is_400(client, db):
    response = _lookup(client, lon=116.4, lat=39.9, at="2024-13-01")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_date"
