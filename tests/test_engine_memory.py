"""The in-memory engine answers exactly as the database engine, on many kinds of points.

More than 10,000 lookups (`SHAOZI_ENGINE_POINTS` scales the random part): random points over Beijing, vertices
and edge midpoints of the demo streets, points in and around building footprints (the straddling building
among them), under rules (a place rule, a building rule, an ended rule, one not yet started), with accuracy
circles, and on several dates: today, inside the ended rule's month, before any boundaries, and in a far-future
test generation whose streets meet on exact grid lines. Each verdict from `engine.lookup` must equal
`selectors.jurisdiction_lookup`'s field for field; a good share must come from memory, or the test proves nothing.
"""

import datetime as dt
import os

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from jurisdictions import engine, selectors
from jurisdictions.models import Area, Building
from jurisdictions.services import rule_create

RANDOM_POINTS = int(os.environ.get("SHAOZI_ENGINE_POINTS", "3000"))
TODAY = dt.date(2026, 6, 1)
ENDED_DAY = dt.date(2025, 1, 15)


@pytest.fixture
def counting(monkeypatch):
    """Counts lookups that `engine.lookup` hands to the database engine."""
    calls = {"database": 0}
    original = selectors.jurisdiction_lookup

    def counted(**kwargs):
        calls["database"] += 1
        return original(**kwargs)

    monkeypatch.setattr(selectors, "jurisdiction_lookup", counted)
    return calls, original


def square_at(lon, lat, half_deg):
    return MultiPolygon(Polygon.from_bbox((lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)), srid=4326)


def demo_points(rng) -> list[tuple[float, float, float | None, dt.date]]:
    points = []
    lon = rng.uniform(115.45, 117.45, RANDOM_POINTS)
    lat = rng.uniform(39.45, 41.05, RANDOM_POINTS)
    points += [(x, y, None, TODAY) for x, y in zip(lon, lat, strict=True)]
    streets = list(Area.objects.current(TODAY).of_level("street").values_list("geom", flat=True))
    coords = np.concatenate([shapely.get_coordinates(shapely.from_wkb(bytes(g.wkb))) for g in streets])
    picks = coords[rng.choice(len(coords), 2000, replace=False)]
    points += [(x, y, None, TODAY) for x, y in picks]
    mids = (coords[:-1] + coords[1:]) / 2
    picks = mids[rng.choice(len(mids), 1000, replace=False)]
    points += [(x, y, None, TODAY) for x, y in picks]
    for building in Building.objects.all():
        minx, miny, maxx, maxy = building.geom.extent
        inside = building.geom.point_on_surface
        points.append((inside.x, inside.y, None, TODAY))
        for x, y in zip(rng.uniform(minx, maxx, 8), rng.uniform(miny, maxy, 8), strict=True):
            points.append((x, y, None, TODAY))
    # Accuracy circles of every size on a sample of the above.
    sample = rng.choice(len(points), 500, replace=False)
    radii = rng.choice([5.0, 30.0, 120.0, 400.0], len(sample))
    points += [(points[i][0], points[i][1], float(r), TODAY) for i, r in zip(sample, radii, strict=True)]
    return points


def test_memory_and_database_agree_on_the_beijing_demo(db, counting):
    calls, reference = counting
    rng = np.random.default_rng(20261202)
    building = Building.objects.order_by("code").first()
    centre = building.geom.point_on_surface
    # Rules: a place rule now, one on a building, one that ended, one not yet started.
    street = Area.objects.current(TODAY).of_level("street").order_by("code")[40]
    spot = street.geom.point_on_surface
    lead = Area.objects.current(TODAY).of_level("street").order_by("code")[41].code
    rule_create(
        lead_code=lead, geom=square_at(spot.x, spot.y, 0.002), valid_from=dt.date(2026, 1, 1), reason="r", author="t"
    )
    rule_create(lead_code=lead, building=building, valid_from=dt.date(2026, 1, 1), reason="r", author="t")
    rule_create(
        lead_code=lead,
        geom=square_at(spot.x + 0.01, spot.y, 0.002),
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2025, 2, 1),
        reason="ended",
        author="t",
    )
    rule_create(
        lead_code=lead,
        geom=square_at(spot.x - 0.01, spot.y, 0.002),
        valid_from=dt.date(2027, 1, 1),
        reason="later",
        author="t",
    )
    points = demo_points(rng)
    for dx in (-0.012, -0.01, -0.008, 0.0, 0.008, 0.01, 0.012):
        for x, y in zip(rng.normal(spot.x + dx, 0.0015, 60), rng.normal(spot.y, 0.0015, 60), strict=True):
            points += [(x, y, None, TODAY), (x, y, None, ENDED_DAY), (x, y, 50.0, TODAY)]
    points += [
        (centre.x, centre.y, None, TODAY),
        (centre.x, centre.y, None, ENDED_DAY),
        (116.4, 39.9, None, dt.date(2019, 6, 1)),
    ]
    assert len(points) >= 10_000

    mismatches = []
    for lon, lat, accuracy, at in points:
        point = Point(lon, lat, srid=4326)
        fast = engine.lookup(point=point, at=at, accuracy_m=accuracy, input={"lon": lon, "lat": lat}).as_dict()
        slow = reference(point=point, at=at, accuracy_m=accuracy, input={"lon": lon, "lat": lat}).as_dict()
        if fast != slow:
            mismatches.append((lon, lat, accuracy, at, fast, slow))
    assert not mismatches, mismatches[:3]
    from_memory = len(points) - calls["database"]
    assert from_memory > len(points) // 2, (from_memory, len(points))


def test_memory_and_database_agree_on_exact_grid_lines(grid_areas, counting):
    calls, reference = counting
    rng = np.random.default_rng(7)
    day = grid_areas
    xs = np.concatenate([rng.uniform(-0.2, 2.2, 600), np.repeat([0.0, 0.5, 1.0, 1.5, 2.0], 40)])
    ys = np.concatenate([rng.uniform(-0.2, 2.2, 600), np.tile(rng.uniform(0, 2, 40), 5)])
    points = [(x, y, None) for x, y in zip(xs, ys, strict=True)] + [
        (x, y, 20_000.0) for x, y in zip(xs[:100], ys[:100], strict=True)
    ]
    points += [(1.0, 1.0, None), (0.5, 0.5, None), (0.0, 0.0, None), (2.0, 2.0, None), (0.25, 0.25, 3000.0)]
    for x, y, accuracy in points:
        point = Point(float(x), float(y), srid=4326)
        fast = engine.lookup(point=point, at=day, accuracy_m=accuracy).as_dict()
        slow = reference(point=point, at=day, accuracy_m=accuracy).as_dict()
        assert fast == slow, (x, y, accuracy, fast, slow)
    assert calls["database"] < len(points)


def test_a_change_in_the_database_reaches_the_memory_at_once(grid_areas):
    day = grid_areas
    point = Point(0.25, 0.25, srid=4326)
    assert engine.lookup(point=point, at=day).method == "point"
    before = engine.engine_version()
    rule_create(lead_code="900002001", geom=square_at(0.25, 0.25, 0.01), valid_from=day, reason="r", author="t")
    assert engine.engine_version() != before
    verdict = engine.lookup(point=point, at=day)
    assert (verdict.method, verdict.lead.code) == ("rule", "900002001")
