"""Checks on a set of polygons before it becomes a coverage: repairs, overlaps, gaps, containment.

Areas are measured in a metric CRS (the UTM zone of the data's centre), never in square degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


@dataclass
class Finding:
    """One problem found in the source. `error` findings stop a commit; warnings are reported only."""

    kind: str  # invalid_ring | overlap | gap | outside_parent | duplicate_code | missing_parent | bad_geometry …
    severity: str  # error | warning
    message: str
    codes: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    area_m2: float | None = None
    geometry: BaseGeometry | None = None  # where it is (WGS-84), for maps and GeoJSON output

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "codes": self.codes,
            "rows": self.rows,
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 2),
        }


def utm_crs_for(geoms) -> CRS:
    """The UTM zone (WGS-84) of the centre of `geoms`: metric, with small distortion over a city."""
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    lon = (minx + maxx) / 2
    lat = (miny + maxy) / 2
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


class MetricProjector:
    """Projects WGS-84 shapely geometries into one metric CRS for area and distance work."""

    def __init__(self, crs: CRS):
        self.crs = crs
        self._transformer = Transformer.from_crs(4326, crs, always_xy=True)

    def __call__(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: np.column_stack(self._transformer.transform(xy[:, 0], xy[:, 1])))

    def area(self, geom: BaseGeometry) -> float:
        return float(self(geom).area) if geom is not None and not geom.is_empty else 0.0


def polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Only the polygonal part of a geometry, as a MultiPolygon; None when nothing polygonal is left."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = []
        for part in geom.geoms:
            sub = polygonal(part)
            if sub is not None:
                parts.extend(sub.geoms)
        return shapely.MultiPolygon(parts) if parts else None
    return None


def repair(geom: BaseGeometry | None) -> tuple[BaseGeometry | None, str | None]:
    """Return (valid MultiPolygon or None, reason it was invalid or None). Uses make_valid, keeps polygons."""
    if geom is None or geom.is_empty:
        return None, "empty geometry"
    reason = None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
    return polygonal(geom), reason


def pieces_above(geom: BaseGeometry | None, project: MetricProjector, tolerance_m2: float) -> list[BaseGeometry]:
    """The polygon parts of `geom` whose metric area exceeds the tolerance."""
    multi = polygonal(geom)
    if multi is None:
        return []
    return [part for part in multi.geoms if project.area(part) > tolerance_m2]


def sibling_overlaps(geoms: list[BaseGeometry], project: MetricProjector, tolerance_m2: float):
    """(i, j, area_m2, overlap) for geometries whose overlap exceeds the tolerance; STRtree keeps it near-linear."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    found = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        overlap = shapely.intersection(geoms[i], geoms[j])
        area = sum(project.area(p) for p in pieces_above(overlap, project, 0.0))
        if area > tolerance_m2:
            found.append((i, j, area, polygonal(overlap)))
    return found


def coverage_gaps(geoms: list[BaseGeometry], project: MetricProjector, tolerance_m2: float, parent=None):
    """Gaps between siblings: the parent not covered by them, or (with no parent) holes enclosed by their union.

    Returns a list of (gap polygon, area_m2).
    """
    union = shapely.union_all(geoms)
    if parent is not None:
        missing = shapely.difference(parent, union)
        return [(p, project.area(p)) for p in pieces_above(missing, project, tolerance_m2)]
    holes = []
    multi = polygonal(union)
    for poly in multi.geoms if multi is not None else []:
        for ring in poly.interiors:
            hole = shapely.Polygon(ring)
            area = project.area(hole)
            # An enclave filled by a sibling (the 朝阳 airport exclave in 顺义) is no hole in the union.
            if area > tolerance_m2:
                holes.append((hole, area))
    return holes


def outside(child: BaseGeometry, parent: BaseGeometry, project: MetricProjector, tolerance_m2: float):
    """(part of `child` outside `parent`, its metric area) when that area exceeds the tolerance, else None."""
    beyond = polygonal(shapely.difference(child, parent))
    area = sum(project.area(p) for p in pieces_above(beyond, project, 0.0))
    return (beyond, area) if area > tolerance_m2 else None


def thinness(geom: BaseGeometry, project: MetricProjector) -> float:
    """Isoperimetric quotient 4πA/P² in metric units: 1 for a disc, near 0 for a sliver."""
    metric = project(geom)
    return 4 * np.pi * metric.area / metric.length**2 if metric.length else 0.0
