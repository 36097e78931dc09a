"""Smoke tests of the Beijing demo data, loaded through the importer (see conftest)."""

import pytest
from django.db import connection
from django.urls import reverse

from jurisdictions.models import Area

pytestmark = pytest.mark.django_db


def _lookup(client, **params):
    response = client.get(reverse("jurisdiction"), params)
    assert response.status_code == 200
    return response.json()


def test_sixteen_districts_and_every_street_unit():
    demo = Area.objects.current()
    assert demo.of_level("district").count() == 16
    streets = demo.of_level("street")
    assert streets.count() == 349 >= 343
    assert not streets.filter(parent__isnull=True).exists()
    assert demo.of_level("district").filter(name="朝阳区").get().children.count() == 43


def test_tiananmen_in_gcj02_is_dongcheng(client):
    body = _lookup(client, lon=116.3975, lat=39.9087, crs="gcj02")
    assert body["district"]["name"] == "东城区"
    # The same numbers read as WGS-84 land ~600 m further east-north-east; the de-shift matters.
    assert body["point"]["coordinates"][0] == pytest.approx(116.39126, abs=1e-4)


def test_capital_airport_exclave_belongs_to_chaoyang_not_shunyi(client):
    body = _lookup(client, lon=116.5874, lat=40.0724)
    assert body["district"]["name"] == "朝阳区"
    assert body["street"]["name"] == "首都机场街道"
    chaoyang = Area.objects.current().get(level="district", name="朝阳区")
    shunyi = Area.objects.current().get(level="district", name="顺义区")
    assert chaoyang.geom.num_geom == 2  # the main body and the exclave
    assert shunyi.geom[0].num_interior_rings == 1  # the matching hole


def test_streets_partition_each_district_exactly():
    """Union of each district's streets equals the district (area within 1 m²) and streets never overlap."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH d AS (SELECT id, code, geom FROM jurisdictions_area WHERE level = 'district'),
                 s AS (SELECT id, parent_id, geom FROM jurisdictions_area WHERE level = 'street')
            SELECT d.code,
                   ST_Area(d.geom::geography) AS district_m2,
                   ST_Area(ST_SymDifference(d.geom, ST_Union(s.geom))::geography) AS symdiff_m2,
                   (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                      FROM s a JOIN s b ON a.parent_id = d.id AND b.parent_id = d.id AND a.id < b.id
                                        AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)) AS overlap_m2
              FROM d JOIN s ON s.parent_id = d.id
             GROUP BY d.id, d.code, d.geom
            """
        )
        rows = cursor.fetchall()
    assert len(rows) == 16
    for code, district_m2, symdiff_m2, overlap_m2 in rows:
        assert district_m2 > 1e7, code
        assert symdiff_m2 < 1.0, (code, symdiff_m2)
        assert overlap_m2 < 1.0, (code, overlap_m2)


def test_districts_tile_beijing_without_overlaps():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
              FROM jurisdictions_area a JOIN jurisdictions_area b
                ON a.level = 'district' AND b.level = 'district' AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
            """
        )
        assert cursor.fetchone()[0] < 1.0
        cursor.execute(
            "SELECT ST_Area(ST_Union(geom)::geography) / 1e6 FROM jurisdictions_area WHERE level = 'district'"
        )
        assert cursor.fetchone()[0] == pytest.approx(16_410, rel=0.01)  # Beijing: about 16,410 km²


def test_a_vertex_shared_by_xicheng_and_fengtai_is_on_the_boundary(client):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ST_X(p.geom), ST_Y(p.geom)
              FROM jurisdictions_area x, jurisdictions_area f, ST_DumpPoints(x.geom) p
             WHERE x.name = '西城区' AND f.name = '丰台区' AND ST_Covers(f.geom, p.geom)
             LIMIT 1
            """
        )
        lon, lat = cursor.fetchone()
    body = _lookup(client, lon=repr(lon), lat=repr(lat))
    assert body["on_boundary"] is True
    districts = {c["name"] for c in body["candidates"] if c["level"] == "district"}
    assert districts == {"西城区", "丰台区"}
