"""Bulk resolution (批量判定): millions of points → street (街道/乡镇) and district (区) in one call, in process.

The areas of a generation are indexed once (geo.pointindex over the same subdivided pieces PostGIS looks up)
and the index is kept in process per generation. Answers equal PostGIS ``ST_Covers`` on those pieces bit for
bit, with the project's tie rule: on a shared edge or vertex the lowest district code leads, then that
district's lowest street code. Street codes start with their district's code, so this is also "the lowest
covering street code and its parent district"; a district without streets stands for itself.

This is the geometric step of the verdict only. Rules, building footprints and accuracy circles are decided
by `jurisdictions.engine`, which uses this index for the geometric step.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import Count, Max
from django.utils import timezone

from geo.pointindex import PointIndex

from .constants import AreaLevel
from .models import Area, AreaPiece, Generation

# Grid cells of the index (4 bytes each): 4 M cells ≈ 90 m squares over Beijing, ~24 MB in all.
INDEX_CELLS = 1 << 22
_CACHE_SIZE = 4


@dataclass(frozen=True)
class AreaTable:
    """The labelled areas of one generation, in priority order (label = row): street or district-only entries."""

    code: np.ndarray
    name: np.ndarray
    level: np.ndarray
    district_code: np.ndarray
    district_name: np.ndarray
    street_code: np.ndarray
    street_name: np.ndarray

    def __len__(self) -> int:
        return len(self.code)


@dataclass(frozen=True)
class BoundaryIndex:
    """A generation's areas and the point index over their pieces (labels index the table)."""

    generation_id: int
    fingerprint: tuple
    table: AreaTable
    index: PointIndex

    @property
    def nbytes(self) -> int:
        return self.index.nbytes


@dataclass(frozen=True)
class BulkResolution:
    """Answers for an array of points: `label` indexes `table` (-1 = outside every area)."""

    generation: Generation | None
    table: AreaTable | None
    label: np.ndarray
    count: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return self.label >= 0

    @property
    def on_boundary(self) -> np.ndarray:
        """True where more than one area covers the point (a shared edge or vertex)."""
        return self.count > 1

    def _column(self, name: str) -> np.ndarray:
        if self.table is None or len(self.table) == 0:
            return np.full(len(self.label), "", dtype="U1")
        values = np.append(getattr(self.table, name), "")  # label -1 reads the trailing ""
        return values[self.label]

    @property
    def district_code(self) -> np.ndarray:
        return self._column("district_code")

    @property
    def district_name(self) -> np.ndarray:
        return self._column("district_name")

    @property
    def street_code(self) -> np.ndarray:
        return self._column("street_code")

    @property
    def street_name(self) -> np.ndarray:
        return self._column("street_name")


_cache: OrderedDict[int, BoundaryIndex] = OrderedDict()
_cache_lock = threading.Lock()


def _areas(generation: Generation):
    return Area.objects.in_generation(generation).filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET])


def _fingerprint(generation: Generation) -> tuple:
    """Changes whenever the generation's areas or pieces are rewritten (ids only grow)."""
    pieces = AreaPiece.objects.filter(area__in=_areas(generation)).aggregate(
        n=Count("id"), last=Max("id"), last_area=Max("area_id")
    )
    return (generation.pk, pieces["n"], pieces["last"], pieces["last_area"])


def _build(generation: Generation, fingerprint: tuple) -> BoundaryIndex:
    areas = {a["id"]: a for a in _areas(generation).values("id", "code", "name", "level", "parent_id")}
    with_streets = {a["parent_id"] for a in areas.values() if a["level"] == AreaLevel.STREET}
    entries = []
    for area in areas.values():
        if area["level"] == AreaLevel.STREET:
            district = areas.get(area["parent_id"])
            entries.append((district, area))
        elif area["id"] not in with_streets:
            entries.append((area, None))
    # Priority: lowest district code, then that district's lowest street code (the documented tie rule).
    entries.sort(key=lambda e: (e[0]["code"] if e[0] else e[1]["code"], e[1]["code"] if e[1] else ""))
    label_of = {}
    for label, (district, street) in enumerate(entries):
        label_of[(street or district)["id"]] = label

    def column(values):
        return np.array(values, dtype=str) if values else np.empty(0, dtype="U1")

    table = AreaTable(
        code=column([(s or d)["code"] for d, s in entries]),
        name=column([(s or d)["name"] for d, s in entries]),
        level=column([(s or d)["level"] for d, s in entries]),
        district_code=column([d["code"] if d else "" for d, s in entries]),
        district_name=column([d["name"] if d else "" for d, s in entries]),
        street_code=column([s["code"] if s else "" for d, s in entries]),
        street_name=column([s["name"] if s else "" for d, s in entries]),
    )
    pieces = (
        AreaPiece.objects.filter(area_id__in=list(label_of))
        .annotate(wkb=AsWKB("geom"))
        .order_by("id")
        .values_list("area_id", "wkb")
    )
    area_ids, blobs = [], []
    for area_id, wkb in pieces.iterator(chunk_size=2000):
        area_ids.append(area_id)
        blobs.append(bytes(wkb))
    geoms = shapely.from_wkb(blobs) if blobs else np.empty(0, dtype=object)
    labels = np.array([label_of[a] for a in area_ids], dtype=np.int64)
    index = PointIndex(geoms, labels, cells=INDEX_CELLS, predicate="postgis")
    return BoundaryIndex(generation_id=generation.pk, fingerprint=fingerprint, table=table, index=index)


def boundary_index(*, generation: Generation) -> BoundaryIndex:
    """The index of `generation`'s streets (and street-less districts), built once and kept in process.

    Rebuilt when the generation's pieces change; at most a few generations are kept (least recently used go).
    """
    fingerprint = _fingerprint(generation)
    with _cache_lock:
        cached = _cache.get(generation.pk)
        if cached is not None and cached.fingerprint == fingerprint:
            _cache.move_to_end(generation.pk)
            return cached
        built = _build(generation, fingerprint)
        _cache[generation.pk] = built
        _cache.move_to_end(generation.pk)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return built


def resolve_points(*, lon, lat, at: dt.date | None = None, generation: Generation | None = None) -> BulkResolution:
    """District and street for every WGS-84 point, against the generation in force on `at` (today by default).

    `lon`/`lat` are array-likes of equal length; NaN covers nothing. Returns a BulkResolution whose columns
    (`district_code`, `street_name`, `on_boundary` …) are arrays in input order.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    generation = generation or Generation.objects.in_force(at or timezone.localdate())
    if generation is None:
        n = len(lon)
        return BulkResolution(None, None, np.full(n, -1, np.int32), np.zeros(n, np.uint16))
    built = boundary_index(generation=generation)
    label, count = built.index.query(lon, lat)
    return BulkResolution(generation, built.table, label, count)


@dataclass
class RulePlaces:
    """Rule areas grouped by their validity [valid_from, valid_to), so that a rule only counts for rows on a day it
    is in force (the jurisdiction engine decides those rows by rule, before geometry)."""

    rules: list[tuple[dt.date, dt.date | None, PointIndex]]

    def mask(self, lon, lat, days) -> np.ndarray:
        """True where a rule in force on the row's day (`days`: datetime64[D] or date strings, one per row) covers
        the point (ST_Covers, as the engine)."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        out = np.zeros(len(lon), dtype=bool)
        day = np.asarray(days, dtype="datetime64[D]")
        for valid_from, valid_to, index in self.rules:
            rows = ~out & (day >= np.datetime64(valid_from, "D"))
            if valid_to is not None:
                rows &= day < np.datetime64(valid_to, "D")
            if rows.any():
                hit = index.query(lon[rows], lat[rows])[0] >= 0
                out[np.flatnonzero(rows)[hit]] = True
        return out


# Boundary lines are cut into runs of this many vertices so the tree's boxes stay small.
_RUN_VERTICES = 64
# Metres per degree of latitude (the smaller of the two axes on the spheroid, so dividing by it over-states).
_METRES_PER_DEGREE = 110_574.0
_boundary_trees: OrderedDict[tuple, shapely.STRtree] = OrderedDict()


def boundary_tree(generation: Generation) -> shapely.STRtree:
    """Street and district outlines of a generation as short line runs in an STRtree (kept per fingerprint)."""
    key = _fingerprint(generation)
    with _cache_lock:
        tree = _boundary_trees.get(key)
        if tree is not None:
            _boundary_trees.move_to_end(key)
            return tree
        blobs = [bytes(w) for w in _areas(generation).annotate(wkb=AsWKB("geom")).values_list("wkb", flat=True)]
        rings = shapely.get_rings(shapely.get_parts(shapely.from_wkb(blobs))) if blobs else np.empty(0, dtype=object)
        runs = []
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            for start in range(0, max(len(xy) - 1, 1), _RUN_VERTICES):
                part = xy[start : start + _RUN_VERTICES + 1]
                if len(part) >= 2:
                    runs.append(shapely.linestrings(part))
        tree = shapely.STRtree(runs)
        _boundary_trees[key] = tree
        while len(_boundary_trees) > _CACHE_SIZE:
            _boundary_trees.popitem(last=False)
        return tree


def circle_reaches_boundary(
    *,
    lon,
    lat,
    radius_m,
    generation: Generation | None,
    tree: shapely.STRtree | None = None,
    index: PointIndex | None = None,
) -> np.ndarray:
    """True where a circle of `radius_m` around the point may reach a street or district boundary of
    `generation` (NaN or 0 radius: no circle, False).

    Only those points need the engine's circle fractions (`selectors.circle_fractions`); a circle that stays
    inside one area gives the point's own verdict. Conservative: the metre radius becomes degrees on the
    longer axis at the point's latitude, plus 1 %, so a point is sometimes sent to the engine needlessly, never
    kept from it wrongly. `tree`: the generation's `boundary_tree`, when the caller keeps it; `index`: the
    generation's point index (`boundary_index(...).index`), whose grid spares most points the exact test.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    radius = np.nan_to_num(np.asarray(radius_m, dtype=np.float64), nan=0.0)
    out = np.zeros(len(lon), dtype=bool)
    with_circle = np.flatnonzero((radius > 0) & np.isfinite(lon) & np.isfinite(lat))
    if generation is None or not len(with_circle):
        return out
    tree = tree if tree is not None else boundary_tree(generation)
    if not len(tree):
        return out
    cos_lat = np.maximum(np.cos(np.radians(np.abs(lat[with_circle]))), 0.01)
    degrees = radius[with_circle] * 1.01 / (_METRES_PER_DEGREE * cos_lat)
    if index is not None:
        # Points whose grid cell shows no edge within reach need no exact test.
        unsure = ~index.clear_of_edges(lon[with_circle], lat[with_circle], degrees)
        with_circle, degrees = with_circle[unsure], degrees[unsure]
        if not len(with_circle):
            return out
    points = shapely.points(lon[with_circle], lat[with_circle])
    hits = tree.query(points, predicate="dwithin", distance=degrees)
    out[with_circle[np.unique(hits[0])]] = True
    return out
