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
from .models import Area, Building, BuildingShare, Generation, Rule
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
    rules: bulk.RulePlaces
    buildings: list[Building]
    building_index: PointIndex | None
    _indexes: dict[int, bulk.BoundaryIndex] = field(default_factory=dict)
    _trees: dict[int, shapely.STRtree] = field(default_factory=dict)
    _districts: dict[int, PointIndex] = field(default_factory=dict)
    _shares: dict[int, dict[int, list[BuildingShare]]] = field(default_factory=dict)
    _with_shares: dict[int, np.ndarray] = field(default_factory=dict)
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

    def districts(self, generation: Generation) -> PointIndex | None:
        """The generation's districts as whole polygons (for points outside every street)."""
        with self._lock:
            if generation.pk not in self._districts:
                blobs = [
                    shapely.from_wkb(bytes(g.wkb))
                    for g in Area.objects.in_generation(generation)
                    .of_level(AreaLevel.DISTRICT)
                    .values_list("geom", flat=True)
                ]
                self._districts[generation.pk] = (
                    PointIndex(blobs, np.zeros(len(blobs), np.int64), cells=1 << 18) if blobs else None
                )
            return self._districts[generation.pk]

    def tree(self, generation: Generation) -> shapely.STRtree:
        with self._lock:
            if generation.pk not in self._trees:
                self._trees[generation.pk] = bulk.boundary_tree(generation)
            return self._trees[generation.pk]

    def with_shares(self, generation: Generation) -> np.ndarray:
        """Per building (in `buildings` order): whether it has shares in `generation` (else geometry decides)."""
        mask = self._with_shares.get(generation.pk)
        if mask is None:
            mask = np.array([bool(self.shares(generation, b.pk)) for b in self.buildings] or [False], dtype=bool)
            self._with_shares[generation.pk] = mask
        return mask

    def shares(self, generation: Generation, building_id: int) -> list[BuildingShare]:
        with self._lock:
            if generation.pk not in self._shares:
                by_building: dict[int, list[BuildingShare]] = {}
                for share in selectors.building_shares(generation=generation):
                    by_building.setdefault(share.building_id, []).append(share)
                self._shares[generation.pk] = by_building
            return self._shares[generation.pk].get(building_id, [])

    def prepare(self, generation: Generation) -> EngineState:
        """Build everything `resolve` reads for `generation` now (point index, boundary lines, districts, building
        shares), so that this state, pickled and shipped to a process without a database (a Dask worker), answers
        every row it can from memory there."""
        self.index(generation)
        self.tree(generation)
        self.districts(generation)
        self.with_shares(generation)
        return self

    # The lock cannot be pickled; a shipped state gets its own.
    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_state: EngineState | None = None
_state_lock = threading.Lock()


def _build(version: int) -> EngineState:
    generations = list(Generation.objects.active().order_by("-valid_from", "-id"))
    periods: dict[tuple, list] = {}
    for rule in Rule.objects.select_related("building"):
        geom = rule.geom if rule.geom is not None else (rule.building.geom if rule.building_id else None)
        if geom is not None:
            periods.setdefault((rule.valid_from, rule.valid_to), []).append(shapely.from_wkb(bytes(geom.wkb)))
    rules = bulk.RulePlaces(
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


# How a row is decided (`Resolution.how`): from memory (INSIDE, BUILDING) or by the database engine (the rest).
INSIDE, BUILDING, AWAY = "inside", "building", "away"
RULE, NEAR_BOUNDARY, OUTSIDE, NO_GENERATION = "rule", "near", "outside", "none"
FROM_MEMORY = (INSIDE, BUILDING, AWAY)


@dataclass
class Resolution:
    """Answers for arrays of points (all arrays in input order).

    `district_code` … `street_name` are the geometric answer (the lowest covering street, as the database's tie
    rule; "" outside). `how` says whether that is the verdict: INSIDE rows are exactly it; BUILDING rows are a
    straddling building's shares and AWAY rows lie far from every area (both answered from memory); every other
    row — a rule in force on its day, a point within a centimetre of a boundary or whose accuracy circle reaches
    one, in a gap between streets, no generation — needs the database engine. `needs_full` marks rows whose
    verdict is not the geometric one.
    `verdicts(rows)` gives the full verdict dicts, each equal to `selectors.jurisdiction_lookup`'s.
    """

    lon: np.ndarray
    lat: np.ndarray
    days: np.ndarray
    accuracy_m: np.ndarray
    generation: np.ndarray  # Generation (or None) per row
    label: np.ndarray
    how: np.ndarray
    district_code: np.ndarray
    district_name: np.ndarray
    street_code: np.ndarray
    street_name: np.ndarray
    inputs: list[dict] | None = None
    _state: EngineState | None = None
    _tables: dict[int, bulk.AreaTable] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def needs_full(self) -> np.ndarray:
        return self.how != INSIDE

    @property
    def needs_database(self) -> np.ndarray:
        return ~np.isin(self.how, FROM_MEMORY)

    @property
    def on_boundary(self) -> np.ndarray:
        return self.how == NEAR_BOUNDARY

    def verdict(self, row: int, input: dict | None = None) -> Verdict:
        """The full verdict of one row (`input`: the caller's coordinates to echo): from memory where exact, else
        from the database engine."""
        at = self.days[row].astype(object)
        accuracy = float(self.accuracy_m[row]) if np.isfinite(self.accuracy_m[row]) else None
        point = Point(float(self.lon[row]), float(self.lat[row]), srid=4326)
        echo = input if input is not None else (self.inputs[row] if self.inputs is not None else None)
        generation = self.generation[row]
        how = self.how[row]
        if how in FROM_MEMORY and generation is not None:
            verdict = Verdict(point=point, input=echo or {}, generation=generation, at=at, accuracy_m=accuracy)
            if how == INSIDE:
                _decide_inside(verdict, self._tables[generation.pk], int(self.label[row]))
                return verdict
            if how == AWAY:
                verdict.needs_review = True
                verdict.reasons.append("点不在任何辖区内 point outside every area")
                return verdict
            building = self._state.buildings[int(self.label[row])]
            if selectors.decide_by_building(verdict, building, generation, self._state.shares(generation, building.pk)):
                return verdict
        return selectors.jurisdiction_lookup(point=point, at=at, accuracy_m=accuracy, input=echo, generation=generation)

    def leads(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: the lead's code and name and its district's code, as the verdict names them ("" where none) —
        from the geometric answer where that is the verdict, from the full verdict elsewhere."""
        lead_code = np.where(self.street_code != "", self.street_code, self.district_code).astype(object)
        lead_name = np.where(self.street_code != "", self.street_name, self.district_name).astype(object)
        district = np.asarray(self.district_code, dtype=object).copy()
        for row in np.flatnonzero(self.needs_full).tolist():
            verdict = self.verdict(row)
            lead_code[row] = verdict.lead.code if verdict.lead else ""
            lead_name[row] = verdict.lead.name if verdict.lead else ""
            district[row] = verdict.district.code if verdict.district else ""
        return lead_code, lead_name, district

    def verdicts(self, rows=None) -> list[dict]:
        """Full verdicts (as dicts) for `rows` (indices; all rows by default)."""
        rows = range(len(self)) if rows is None else rows
        return [self.verdict(int(i)).as_dict() for i in rows]

    def verdict_table(self, *, memory_only: bool = False) -> dict[str, np.ndarray]:
        """Every row's verdict as columns: `generation` (name), `district_code`/`_name`, `street_code`/`_name`,
        `lead_code`/`_name`, `method`, `needs_review`, `how` — from the arrays for rows well inside one street or
        far from every area, from `verdict(row)` for the others, so each equals the full verdict's fields.

        `memory_only`: rows that need the database engine (`needs_database`) are left empty (method "") instead of
        asking it, for a process without a database that hands those rows to one with it.
        """
        n = len(self)
        names = np.array([g.name if g is not None else "" for g in self.generation], dtype=object).reshape(n)
        district_code = np.asarray(self.district_code, dtype=object).copy()
        district_name = np.asarray(self.district_name, dtype=object).copy()
        street_code = np.asarray(self.street_code, dtype=object).copy()
        street_name = np.asarray(self.street_name, dtype=object).copy()
        has_street = street_code != ""
        lead_code = np.where(has_street, street_code, district_code).astype(object)
        lead_name = np.where(has_street, street_name, district_name).astype(object)
        method = np.full(n, "point", dtype=object)
        needs_review = np.zeros(n, dtype=bool)
        away = self.how == AWAY
        method[away] = "outside"
        needs_review[away] = True
        rows = self.needs_full & ~away
        if memory_only:
            pending = self.needs_database
            for column in (district_code, district_name, street_code, street_name, lead_code, lead_name, method):
                column[pending] = ""
            rows &= ~pending
        for row in np.flatnonzero(rows).tolist():
            verdict = self.verdict(row)
            district_code[row], district_name[row] = _code_name(verdict.district)
            street_code[row], street_name[row] = _code_name(verdict.street)
            lead_code[row], lead_name[row] = _code_name(verdict.lead)
            method[row] = verdict.method
            needs_review[row] = verdict.needs_review
        return {
            "generation": names,
            "district_code": district_code,
            "district_name": district_name,
            "street_code": street_code,
            "street_name": street_name,
            "lead_code": lead_code,
            "lead_name": lead_name,
            "method": method,
            "needs_review": needs_review,
            "how": np.asarray(self.how, dtype=object),
        }


def _code_name(ref: AreaRef | None) -> tuple[str, str]:
    return (ref.code, ref.name) if ref is not None else ("", "")


def resolve(
    lon,
    lat,
    *,
    at=None,
    accuracy_m=None,
    crs: str = "wgs84",
    inputs: list[dict] | None = None,
    generation: Generation | None = None,
    state: EngineState | None = None,
) -> Resolution:
    """The engine's one entry point: district and street for arrays of points, and which rows need more.

    `lon`/`lat`: array-likes in `crs` (converted to WGS-84 here; NaN covers nothing). `at`: a date, or one date
    per row (datetime64[D] or ISO strings; Beijing's today by default) — each row is answered against the
    generation and the rules in force on its day (`generation` forces one boundary set for every row, as when
    re-resolving stored verdicts against a new one; rules still apply as of each row's day). `accuracy_m`: None,
    a radius, or one per row (NaN: none).
    `state`: an engine state to answer from instead of this process's (one built and `prepare`d elsewhere and
    shipped here, as `archive_resolve` does for its Dask workers: then no database is read for the rows decided
    from memory; rows that need the database engine are only marked, see `Resolution.needs_database`).
    Single lookups, the batch API, bulk intake, re-resolution and the hot-spot analyses all come through here.
    """
    lon, lat = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (lon, lat))
    if crs and crs != "wgs84":
        from geo import coords

        lon, lat = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in coords.to_wgs84(lon, lat, crs))
    n = len(lon)
    if at is None:
        at = timezone.localdate()
    days = np.broadcast_to(np.asarray(at, dtype="datetime64[D]"), (n,)).copy()
    accuracy = (
        np.full(n, np.nan)
        if accuracy_m is None
        else np.broadcast_to(np.asarray(accuracy_m, dtype=np.float64), (n,)).copy()
    )
    accuracy[~(accuracy > 0)] = np.nan
    state = state if state is not None else engine_state()
    label = np.full(n, -1, np.int64)
    how = np.full(n, OUTSIDE, dtype="U8")
    names = ("district_code", "district_name", "street_code", "street_name")
    columns: dict[str, np.ndarray] = {}
    # One generation per distinct day, then every row of a generation at once.
    unique_days, day_of_row = np.unique(days, return_inverse=True)
    in_force = [generation or state.in_force(day.astype(object)) for day in unique_days]
    generation_of_row = np.array([g.pk if g is not None else -1 for g in in_force], np.int64)[day_of_row]
    generations = np.array([*in_force, None], dtype=object)[:-1][day_of_row] if n else np.empty(0, dtype=object)
    resolution = Resolution(
        lon=lon,
        lat=lat,
        days=days,
        accuracy_m=accuracy,
        generation=generations,
        label=label,
        how=how,
        inputs=inputs,
        _state=state,
        **dict.fromkeys(names),
    )
    how[generation_of_row < 0] = NO_GENERATION
    finite = np.isfinite(lon) & np.isfinite(lat)
    by_pk = {g.pk: g for g in in_force if g is not None}
    groups = [pk for pk in np.unique(generation_of_row) if pk >= 0]
    for pk in groups:
        current = by_pk[int(pk)]
        rows = np.flatnonzero((generation_of_row == pk) & finite)
        if not len(rows):
            continue
        x, y = lon[rows], lat[rows]
        built = state.index(current)
        resolution._tables[current.pk] = built.table
        hit, _ = built.index.query(x, y)
        inside = hit >= 0
        label[rows[inside]] = hit[inside]
        for name in names:
            values = np.append(getattr(built.table, name), "")[hit]
            if len(rows) == n:
                columns[name] = values
            else:
                columns.setdefault(name, np.full(n, "", dtype=object))[rows] = values
        how[rows[inside]] = INSIDE
        # Only rows inside an area can be decided by geometry alone; the others go to the database anyway.
        check = np.flatnonzero(inside)
        radius = np.fmax(np.nan_to_num(accuracy[rows[check]], nan=0.0), settings.SHAOZI["BOUNDARY_TOLERANCE_M"])
        near = bulk.circle_reaches_boundary(
            lon=x[check],
            lat=y[check],
            radius_m=radius,
            generation=current,
            tree=state.tree(current),
            index=built.index,
        )
        how[rows[check[near]]] = NEAR_BOUNDARY
        # Outside every street: far from every area only if no district covers it and nothing is within reach.
        out = np.flatnonzero(~inside)
        if len(out):
            districts = state.districts(current)
            if districts is not None:
                out = out[districts.query(x[out], y[out])[0] < 0]
            radius = np.fmax(np.nan_to_num(accuracy[rows[out]], nan=0.0), settings.SHAOZI["BOUNDARY_TOLERANCE_M"])
            reach = bulk.circle_reaches_boundary(
                lon=x[out], lat=y[out], radius_m=radius, generation=current, tree=state.tree(current)
            )
            how[rows[out[~reach]]] = AWAY
        if state.building_index is not None:
            in_building, _ = state.building_index.query(x, y)
            found = in_building >= 0
            decides = found & state.with_shares(current)[np.where(found, in_building, 0)]
            how[rows[decides]] = BUILDING
            label[rows[decides]] = in_building[decides]
        ruled = state.rules.mask(x, y, days=days[rows])
        how[rows[ruled]] = RULE
    for name in names:
        setattr(resolution, name, columns.get(name, np.full(n, "", dtype=object)))
    return resolution


def lookup(
    *, point: Point, at: dt.date | None = None, accuracy_m: float | None = None, input: dict | None = None
) -> Verdict:
    """The verdict for `point` on `at` (Beijing's today by default) — the same as `selectors.jurisdiction_lookup`,
    from memory where that is exact, else from the database engine."""
    at = at or timezone.localdate()
    x, y = point.x, point.y
    if not (math.isfinite(x) and math.isfinite(y)):
        return selectors.jurisdiction_lookup(point=point, at=at, accuracy_m=accuracy_m, input=input)
    resolution = resolve([x], [y], at=at, accuracy_m=accuracy_m, inputs=[input] if input is not None else None)
    verdict = resolution.verdict(0)
    verdict.point = point
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
