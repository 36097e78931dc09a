"""The jurisdiction engine kept in memory: one lookup answered without the database in the common case.

Each server process holds the active generations, every generation's point index (`jurisdictions.bulk`), the
rule areas grouped by validity, the building footprints and their shares. They are keyed by the engine version
(`jurisdictions_engine_version`, moved by triggers on every change to generations, areas, pieces, buildings,
shares and rules), so one cheap query per lookup tells whether they are still right; they are rebuilt only when
it moves.

`lookup` gives exactly the verdict of `selectors.jurisdiction_lookup` (the database engine, which stays the
reference): a point under a rule in force, within a centimetre of a boundary, whose accuracy circle reaches a
boundary, or outside every area goes to it; a point in a building footprint or well inside one street is
answered here with the same code paths and wording. `tests/test_engine_memory.py` compares both on more than
10,000 points.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from geo.pointindex import PointIndex

from . import bulk, selectors
from .constants import AreaLevel
from .models import Building, BuildingShare, Generation, Rule
from .selectors import AreaRef, Verdict


def engine_version() -> int:
    """The current engine version (one indexed single-row read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM jurisdictions_engine_version WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass
class EngineState:
    """What one process keeps for lookups, valid for one engine version."""

    version: int
    generations: list[Generation]
    rules: bulk.EnginePlaces
    buildings: list[Building]
    building_index: PointIndex | None
    _indexes: dict[int, bulk.BoundaryIndex] = field(default_factory=dict)
    _trees: dict[int, shapely.STRtree] = field(default_factory=dict)
    _shares: dict[int, dict[int, list[BuildingShare]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def in_force(self, at: dt.date) -> Generation | None:
        """As `Generation.objects.in_force`: the active generation valid on `at`, latest-starting first."""
        for generation in self.generations:
            if generation.valid_from <= at and (generation.valid_to is None or generation.valid_to > at):
                return generation
        return None

    def index(self, generation: Generation) -> bulk.BoundaryIndex:
        with self._lock:
            if generation.pk not in self._indexes:
                self._indexes[generation.pk] = bulk.boundary_index(generation=generation)
            return self._indexes[generation.pk]

    def tree(self, generation: Generation) -> shapely.STRtree:
        with self._lock:
            if generation.pk not in self._trees:
                self._trees[generation.pk] = bulk.boundary_tree(generation)
            return self._trees[generation.pk]

    def shares(self, generation: Generation, building_id: int) -> list[BuildingShare]:
        with self._lock:
            if generation.pk not in self._shares:
                by_building: dict[int, list[BuildingShare]] = {}
                for share in selectors.building_shares(generation=generation):
                    by_building.setdefault(share.building_id, []).append(share)
                self._shares[generation.pk] = by_building
            return self._shares[generation.pk].get(building_id, [])


_state: EngineState | None = None
_state_lock = threading.Lock()


def _build(version: int) -> EngineState:
    generations = list(Generation.objects.active().order_by("-valid_from", "-id"))
    periods: dict[tuple, list] = {}
    for rule in Rule.objects.select_related("building"):
        geom = rule.geom if rule.geom is not None else (rule.building.geom if rule.building_id else None)
        if geom is not None:
            periods.setdefault((rule.valid_from, rule.valid_to), []).append(shapely.from_wkb(bytes(geom.wkb)))
    rules = bulk.EnginePlaces(
        buildings=None,
        rules=[
            (start, end, PointIndex(geoms, np.zeros(len(geoms), np.int64), cells=1 << 16))
            for (start, end), geoms in sorted(periods.items(), key=str)
        ],
    )
    buildings = list(Building.objects.order_by("code"))
    building_index = None
    if buildings:
        # Labels in code order, so the first covering footprint is the lowest code, as the database engine picks.
        footprints = [shapely.from_wkb(bytes(b.geom.wkb)) for b in buildings]
        building_index = PointIndex(footprints, np.arange(len(buildings)), cells=1 << 18)
    return EngineState(
        version=version, generations=generations, rules=rules, buildings=buildings, building_index=building_index
    )


def engine_state() -> EngineState:
    """This process's engine state, rebuilt when the database's engine version has moved."""
    global _state
    version = engine_version()
    state = _state
    if state is not None and state.version == version:
        return state
    with _state_lock:
        if _state is None or _state.version != version:
            _state = _build(version)
        return _state


def lookup(
    *, point: Point, at: dt.date | None = None, accuracy_m: float | None = None, input: dict | None = None
) -> Verdict:
    """The verdict for `point` on `at` (Beijing's today by default) — the same as `selectors.jurisdiction_lookup`,
    from memory where that is exact, else from the database engine."""
    at = at or timezone.localdate()

    def from_database() -> Verdict:
        return selectors.jurisdiction_lookup(point=point, at=at, accuracy_m=accuracy_m, input=input)

    x, y = point.x, point.y
    if not (math.isfinite(x) and math.isfinite(y)):
        return from_database()
    state = engine_state()
    generation = state.in_force(at)
    if generation is None:
        return from_database()
    lon, lat = np.array([x]), np.array([y])
    if state.rules.mask(lon, lat, days=np.array([at], dtype="datetime64[D]"))[0]:
        return from_database()
    verdict = Verdict(point=point, input=input or {}, generation=generation, at=at, accuracy_m=accuracy_m)
    if state.building_index is not None:
        label = int(state.building_index.query(lon, lat)[0][0])
        if label >= 0:
            building = state.buildings[label]
            shares = state.shares(generation, building.pk)
            if shares:
                selectors.decide_by_building(verdict, building, generation, shares)
                return verdict
    radius = max(float(accuracy_m or 0.0), settings.SHAOZI["BOUNDARY_TOLERANCE_M"])
    if bulk.circle_reaches_boundary(
        lon=lon, lat=lat, radius_m=np.array([radius]), generation=generation, tree=state.tree(generation)
    )[0]:
        return from_database()
    built = state.index(generation)
    label = int(built.index.query(lon, lat)[0][0])
    if label < 0:
        return from_database()
    _decide_inside(verdict, built.table, label)
    return verdict


def _decide_inside(verdict: Verdict, table: bulk.AreaTable, label: int) -> None:
    """A point well inside one street (or street-less district), as `selectors._decide_by_point` words it."""
    district_code, street_code = str(table.district_code[label]), str(table.street_code[label])
    district = AreaRef(district_code, str(table.district_name[label]), AreaLevel.DISTRICT) if district_code else None
    street = AreaRef(street_code, str(table.street_name[label]), AreaLevel.STREET, district_code or None)
    if not street_code:
        street, district = None, AreaRef(str(table.code[label]), str(table.name[label]), AreaLevel.DISTRICT)
    verdict.street, verdict.district, verdict.lead = street, district, street or district
    verdict.method = "point"
    if verdict.accuracy_m:
        verdict.reasons.append(f"误差圆 {verdict.accuracy_m:g} 米内仅涉及 {verdict.lead.name} circle inside one area")
    verdict.reasons.append("点落在辖区内 point inside the area")
