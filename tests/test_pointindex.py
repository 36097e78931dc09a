"""The in-process point index and the bulk resolver against PostGIS ST_Covers and GEOS, point for point."""

import datetime as dt
from fractions import Fraction

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.db import connection

from geo.pointindex import PointIndex, _exact_side_sign
from jurisdictions import bulk, engine
from jurisdictions.selectors import jurisdiction_lookup

from .conftest import square


def _postgis_first_and_count(geoms, labels, lon, lat):
    """PostGIS ST_Covers of every point against every polygon: (lowest covering label, distinct labels)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE pi_polys (label int, geom geometry(Polygon, 4326)) ON COMMIT DROP")
        cursor.execute("CREATE TEMP TABLE pi_points (i int, geom geometry(Point, 4326)) ON COMMIT DROP")
        cursor.executemany(
            "INSERT INTO pi_polys VALUES (%s, ST_GeomFromWKB(%s, 4326))",
            [(int(label), shapely.to_wkb(g)) for g, label in zip(geoms, labels, strict=True)],
        )
        cursor.executemany(
            "INSERT INTO pi_points VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [
                (i, x, y)
                for i, (x, y) in enumerate(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))
            ],
        )
        cursor.execute("CREATE INDEX ON pi_polys USING gist (geom)")
        cursor.execute("ANALYZE pi_polys")
        cursor.execute(
            "SELECT t.i, min(p.label), count(DISTINCT p.label) FROM pi_points t "
            "JOIN pi_polys p ON ST_Covers(p.geom, t.geom) GROUP BY t.i"
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE pi_polys, pi_points")
    first = np.full(len(lon), -1)
    count = np.zeros(len(lon), int)
    for i, label, n in rows:
        first[i] = label
        count[i] = n
    return first, count


def _geos_first_and_count(geoms, labels, lon, lat):
    points = shapely.points(lon, lat)
    point_i, poly_i = shapely.STRtree(geoms).query(points, predicate="covered_by")
    labels = np.asarray(labels)
    first = np.full(len(lon), np.iinfo(np.int64).max)
    np.minimum.at(first, point_i, labels[poly_i])
    first[first == np.iinfo(np.int64).max] = -1
    pairs = np.unique(np.c_[point_i, labels[poly_i]], axis=0)
    count = np.bincount(pairs[:, 0], minlength=len(lon)) if len(pairs) else np.zeros(len(lon), int)
    return first, count


def _boundary_points(geoms, rng):
    """Every vertex, the midpoint of every axis-parallel edge, and a point computed on every slanted edge."""
    rings = shapely.get_rings(np.asarray(geoms, dtype=object))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    axis = (a[:, 0] == b[:, 0]) | (a[:, 1] == b[:, 1])
    mid = (a[axis] + b[axis]) / 2
    t = rng.random(int((~axis).sum()))[:, None]
    slanted = a[~axis] + t * (b[~axis] - a[~axis])
    points = np.vstack([coords, mid, slanted])
    return points[:, 0], points[:, 1]


@pytest.fixture
def literal_polygons():
    """Two unit squares side by side, a triangle with a hole above them, and a square overlapping all three."""
    triangle = shapely.Polygon([(0, 1), (2, 1), (1, 2)], [[(0.8, 1.2), (1.2, 1.2), (1.0, 1.5)]])
    return [square(0, 0), square(1, 0), triangle, shapely.box(0.5, 0.5, 1.5, 1.5), shapely.box(3, 3, 3.7, 3.3)]


@pytest.mark.parametrize("predicate", ["postgis", "robust"])
def test_literal_polygons_first_cover_and_count(db, literal_polygons, predicate):
    rng = np.random.default_rng(7)
    x = np.r_[rng.uniform(-0.5, 4, 20_000), 0, 1, 1, 2, 0.5, 1.0, 1.0, 1.0, 0.9, np.nan, 1e9]
    y = np.r_[rng.uniform(-0.5, 4, 20_000), 0, 0, 1, 1, 1.0, 0.5, 1.2, 1.35, 1.2, 0.5, 0.5]
    bx, by = _boundary_points(literal_polygons, rng)
    x, y = np.r_[x, bx], np.r_[y, by]
    index = PointIndex(literal_polygons, cells=4096, predicate=predicate)
    first, count = index.query(x, y)
    want_first, want_count = _geos_first_and_count(literal_polygons, range(5), x, y)
    np.testing.assert_array_equal(first, want_first)
    np.testing.assert_array_equal(count, want_count)
    # Hand-checked: the shared corner (1, 1) is covered by all four polygons around it; the hole's inside is
    # covered only by the overlapping square; NaN and far-away points by nothing.
    assert (first[20_002], count[20_002]) == (0, 4)
    assert (first[20_007], count[20_007]) == (3, 1)
    assert (first[20_009], count[20_009]) == (-1, 0)
    assert (first[20_010], count[20_010]) == (-1, 0)


def test_labels_merge_pieces_and_order_priority(db):
    """Pieces sharing a label count once; the lowest label wins whatever the input order."""
    pieces = [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1)]
    index = PointIndex(pieces, labels=[5, 9, 9], cells=1024)
    first, count = index.query([1.0, 0.5, 1.5, 1.0], [0.5, 0.5, 0.5, 1.0])
    assert first.tolist() == [5, 9, 5, 5]
    assert count.tolist() == [2, 1, 1, 2]


def test_rejects_what_it_cannot_index():
    with pytest.raises(ValueError, match="Polygon"):
        PointIndex([shapely.Point(0, 0)])
    with pytest.raises(ValueError, match="predicate"):
        PointIndex([square(0, 0)], predicate="fast")
    with pytest.raises(ValueError, match="labels"):
        PointIndex([square(0, 0)], labels=[1, 2])


def test_exact_side_sign_matches_rational_arithmetic():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(3000):
        x1, y1 = rng.uniform(115, 118), rng.uniform(39, 42)
        x2, y2 = x1 + rng.uniform(-0.05, 0.05), y1 + rng.uniform(-0.05, 0.05)
        t = rng.random()
        px, py = x1 + t * (x2 - x1), y1 + t * (y2 - y1)  # on the segment, up to rounding
        px = np.nextafter(px, px + rng.choice([-1, 0, 1]))
        if rng.random() < 0.1:
            px, py = (x1, y1) if rng.random() < 0.5 else (x2, y2)  # a vertex: exactly on the line
        exact = (Fraction(x2) - Fraction(x1)) * (Fraction(py) - Fraction(y1)) - (Fraction(px) - Fraction(x1)) * (
            Fraction(y2) - Fraction(y1)
        )
        want = (exact > 0) - (exact < 0)
        assert _exact_side_sign(x1, y1, x2, y2, px, py) == want, (x1, y1, x2, y2, px, py)
        checked += want == 0
    assert checked > 0  # some points were exactly on their line


def _float_and_exact_disagree(rng, n=400):
    """Slanted edges of a triangle and points computed on them where the float side test has the wrong sign."""
    found = []
    while len(found) < n:
        x1, y1 = float(rng.uniform(116.0, 116.5)), float(rng.uniform(39.8, 40.2))
        x2, y2 = x1 + float(rng.uniform(0.001, 0.02)), y1 + float(rng.uniform(0.001, 0.02))
        for t in rng.random(200).tolist():
            px, py = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
            float_side = (x2 - x1) * (py - y1) - (px - x1) * (y2 - y1)
            exact = _exact_side_sign(x1, y1, x2, y2, px, py)
            if (float_side > 0) - (float_side < 0) != exact:
                found.append((x1, y1, x2, y2, px, py))
                break
    return found


def test_postgis_predicate_is_postgis_and_robust_is_geos_where_they_differ(db):
    """On points a rounding away from a slanted edge PostGIS and GEOS can disagree; each predicate follows one."""
    rng = np.random.default_rng(11)
    cases = _float_and_exact_disagree(rng)
    geoms, labels, xs, ys = [], [], [], []
    for k, (x1, y1, x2, y2, px, py) in enumerate(cases):
        # A triangle whose hypotenuse is the edge; (x2, y1) lies to the right of x1→x2 going up.
        geoms.append(shapely.Polygon([(x1, y1), (x2, y1), (x2, y2)]))
        labels.append(k)
        xs.append(px)
        ys.append(py)
    postgis = PointIndex(geoms, labels, cells=1 << 16, predicate="postgis")
    robust = PointIndex(geoms, labels, cells=1 << 16, predicate="robust")
    pg_first, pg_count = _postgis_first_and_count(geoms, labels, xs, ys)
    geos_first, geos_count = _geos_first_and_count(geoms, labels, np.array(xs), np.array(ys))
    assert (pg_count != geos_count).any(), "the two engines should disagree on some of these points"
    first, count = postgis.query(xs, ys)
    np.testing.assert_array_equal(first, pg_first)
    np.testing.assert_array_equal(count, pg_count)
    first, count = robust.query(xs, ys)
    np.testing.assert_array_equal(first, geos_first)
    np.testing.assert_array_equal(count, geos_count)


def _beijing_street_pieces():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.code, ST_AsBinary(p.geom) FROM jurisdictions_areapiece p "
            "JOIN jurisdictions_area a ON a.id = p.area_id WHERE a.level = 'street' ORDER BY a.code, p.id"
        )
        rows = cursor.fetchall()
    codes = sorted({code for code, _ in rows})
    rank = {code: i for i, code in enumerate(codes)}
    return [shapely.from_wkb(bytes(w)) for _, w in rows], np.array([rank[c] for c, _ in rows]), codes


def _beijing_points(geoms, n, seed):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    bx, by = _boundary_points(geoms, rng)
    keep = rng.random(len(bx)) < 0.5
    return np.r_[rng.uniform(minx, maxx, n), bx[keep]], np.r_[rng.uniform(miny, maxy, n), by[keep]]


def test_beijing_streets_equal_postgis_join_and_geos(db):
    geoms, labels, _ = _beijing_street_pieces()
    x, y = _beijing_points(geoms, 20_000, seed=1)
    pg_first, pg_count = _postgis_first_and_count(geoms, labels, x, y)
    first, count = PointIndex(geoms, labels, predicate="postgis").query(x, y)
    np.testing.assert_array_equal(first, pg_first)
    np.testing.assert_array_equal(count, pg_count)
    geos_first, geos_count = _geos_first_and_count(geoms, labels, x, y)
    first, count = PointIndex(geoms, labels, predicate="robust").query(x, y)
    np.testing.assert_array_equal(first, geos_first)
    np.testing.assert_array_equal(count, geos_count)
    assert (pg_count > 1).sum() > 1000  # plenty of points really were on shared edges


def test_resolver_and_single_point_lookup_apply_the_same_tie_rule(db):
    """The bulk resolver and jurisdiction_lookup name the same district and street, edges and vertices included.

    Both use the documented rule: the lowest covering street code leads, its parent is the district.
    """
    geoms, _, _ = _beijing_street_pieces()
    x, y = _beijing_points(geoms, 300, seed=2)
    rng = np.random.default_rng(3)
    pick = np.r_[np.arange(300), 300 + rng.choice(len(x) - 300, size=700, replace=False)]
    x, y = x[pick], y[pick]
    resolution = bulk.resolve_points(lon=x, lat=y)
    # Points under a building or a rule are decided by them first; every other point by geometry.
    decided_by_geometry = ~np.isin(engine.resolve(x, y).how, [engine.BUILDING, engine.RULE])
    checked = 0
    for i in np.flatnonzero(decided_by_geometry):
        verdict = jurisdiction_lookup(point=Point(float(x[i]), float(y[i]), srid=4326))
        district = verdict.district.code if verdict.district else ""
        street = verdict.street.code if verdict.street else ""
        assert (resolution.district_code[i], resolution.street_code[i]) == (district, street), (x[i], y[i])
        checked += 1
    assert checked > 900
    assert resolution.on_boundary[300:].sum() > 200  # many of the second set really lie on shared edges


def test_resolve_points_on_literal_grid(grid_areas):
    resolution = bulk.resolve_points(
        lon=[0.25, 0.75, 1.0, 0.5, 5.0, np.nan], lat=[0.5, 0.5, 1.0, 0.5, 5.0, 0.0], at=grid_areas
    )
    assert resolution.generation.name == "test-grid"
    assert resolution.street_code.tolist() == ["900001001", "900001002", "900001002", "900001001", "", ""]
    assert resolution.district_code.tolist() == ["900001", "900001", "900001", "900001", "", ""]
    assert resolution.district_name.tolist()[0] == "测试区1"
    # (1, 1) is the corner of all four districts; (0.5, 0.5) lies on the line between two streets.
    assert resolution.on_boundary.tolist() == [False, False, True, True, False, False]
    assert resolution.covered.tolist() == [True, True, True, True, False, False]


def test_district_without_streets_stands_for_itself(db, tmp_path):
    from jurisdictions.services import FieldMap, boundaries_import

    from .conftest import write_geojson

    districts = write_geojson(
        tmp_path / "d.geojson",
        [({"code": "910001", "name": "甲区"}, square(0, 0)), ({"code": "910002", "name": "乙区"}, square(1, 0))],
    )
    streets = write_geojson(
        tmp_path / "s.geojson", [({"code": "910002001", "name": "乙街道", "parent_code": "910002"}, square(1, 0))]
    )
    common = dict(
        generation="test-fallback", valid_from=dt.date(2200, 1, 1), fields=FieldMap(), commit=True, activate=True
    )
    boundaries_import(source=districts, level="district", **common)
    boundaries_import(source=streets, level="street", **common)
    resolution = bulk.resolve_points(lon=[0.5, 1.5, 1.0], lat=[0.5, 0.5, 0.5], at=dt.date(2200, 6, 1))
    assert resolution.district_code.tolist() == ["910001", "910002", "910001"]
    assert resolution.street_code.tolist() == ["", "910002001", ""]
    assert resolution.on_boundary.tolist() == [False, False, True]
