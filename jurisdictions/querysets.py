"""The spatial vocabulary of jurisdictions: generations in force, areas covering or near a point."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import AsGeoJSON, GeoFunc, PointOnSurface
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db.models import Exists, OuterRef
from django.utils import timezone

_METRES_PER_DEGREE = 111_320.0


def degrees_for_metres(metres: float, latitude: float) -> float:
    """A distance in degrees that is at least `metres` in every direction at `latitude`.

    Used only for tiny tolerances with ST_DWithin on EPSG:4326, where a geography cast would lose the index.
    """
    return metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))


class GenerationQuerySet(models.QuerySet):
    def valid_on(self, on: dt.date) -> GenerationQuerySet:
        """Generations whose validity [valid_from, valid_to) contains the date `on`."""
        return self.filter(valid_from__lte=on).filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=on))

    def active(self) -> GenerationQuerySet:
        """Generations that have been activated (imported ones wait for review until then)."""
        return self.filter(active=True)

    def in_force(self, on: dt.date | None = None):
        """The active generation in force on `on` (today by default), the latest-starting if several; or None."""
        return self.active().valid_on(on or timezone.localdate()).order_by("-valid_from", "-id").first()


class AreaQuerySet(models.QuerySet):
    def in_generation(self, generation) -> AreaQuerySet:
        """Areas that belong to `generation` (its start date lies within their generation range)."""
        return self.filter(
            generation_low__valid_from__lte=generation.valid_from,
            generation_high__valid_from__gte=generation.valid_from,
        )

    def current(self, on: dt.date | None = None) -> AreaQuerySet:
        """Areas of the generation in force on `on` (today by default); empty when none is."""
        from .models import Generation

        generation = Generation.objects.in_force(on)
        if generation is None:
            return self.none()
        return self.in_generation(generation)

    def covering(self, point: Point) -> AreaQuerySet:
        """Areas one of whose pieces covers `point` (ST_Covers: a point on an edge or vertex counts)."""
        from .models import AreaPiece

        return self.filter(Exists(AreaPiece.objects.filter(area=OuterRef("pk"), geom__covers=point)))

    def near(self, point: Point, metres: float) -> AreaQuerySet:
        """Areas within about `metres` of `point` (degree tolerance derived at the point's latitude)."""
        from .models import AreaPiece

        tolerance = degrees_for_metres(metres, point.y)
        return self.filter(Exists(AreaPiece.objects.filter(area=OuterRef("pk"), geom__dwithin=(point, tolerance))))

    def intersecting(self, geom: GEOSGeometry) -> AreaQuerySet:
        """Areas whose boundary intersects `geom` (for bbox filters)."""
        return self.filter(geom__intersects=geom)

    def of_level(self, level: str) -> AreaQuerySet:
        """Areas of one level (district / street / community / grid)."""
        return self.filter(level=level)

    def with_geojson(self, *, simplify_m: float | None = None, precision: int = 7) -> AreaQuerySet:
        """Annotate `geojson`: the boundary as GeoJSON text (1e-7° ≈ 1 cm), simplified to `simplify_m` if given.

        Rings wind as RFC 7946 requires (exterior counter-clockwise, holes clockwise; `ForcePolygonCCW`), whatever
        order the source file had. Simplification is per area (ST_SimplifyPreserveTopology), so neighbours may no
        longer share edges exactly: it is for drawing, never for lookups.
        """
        geom = models.F("geom")
        if simplify_m:
            geom = SimplifyPreserveTopology(geom, simplify_m / _METRES_PER_DEGREE)
        return self.annotate(
            geojson=AsGeoJSON(ForcePolygonCCW(geom), precision=precision), label_point=PointOnSurface("geom")
        )


class ForcePolygonCCW(GeoFunc):
    """PostGIS ST_ForcePolygonCCW(geom): exterior rings counter-clockwise, interior rings clockwise — the winding
    RFC 7946 asks of GeoJSON. Points and lines pass unchanged."""

    function = "ST_ForcePolygonCCW"
    output_field = models.GeometryField(srid=4326)


class SimplifyPreserveTopology(GeoFunc):
    """PostGIS ST_SimplifyPreserveTopology(geom, tolerance in the geometry's units)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = models.GeometryField(srid=4326)


class AreaPieceQuerySet(models.QuerySet):
    def covering(self, point: Point) -> AreaPieceQuerySet:
        """Pieces covering `point` (ST_Covers, index-assisted)."""
        return self.filter(geom__covers=point)


class DepartmentQuerySet(models.QuerySet):
    def for_role(self, role: str, *, district_code: str | None = None) -> DepartmentQuerySet:
        """Departments of `role` serving `district_code`: the district's own first, then city-wide ones."""
        qs = self.filter(role=role)
        if district_code:
            qs = qs.filter(models.Q(district_code=district_code) | models.Q(district_code=""))
        else:
            qs = qs.filter(district_code="")
        return qs.order_by(models.F("district_code").desc(), "code")


class BuildingQuerySet(models.QuerySet):
    def covering(self, point: Point) -> BuildingQuerySet:
        """Buildings whose footprint covers `point` (ST_Covers: on the wall counts)."""
        return self.filter(geom__covers=point)

    def intersecting(self, geom: GEOSGeometry) -> BuildingQuerySet:
        """Buildings whose footprint intersects `geom`."""
        return self.filter(geom__intersects=geom)


class RuleQuerySet(models.QuerySet):
    def valid_on(self, on: dt.date) -> RuleQuerySet:
        """Rules in force on `on`: valid_from ≤ on < valid_to (open-ended when valid_to is empty)."""
        return self.filter(valid_from__lte=on).filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=on))

    def covering(self, point: Point) -> RuleQuerySet:
        """Rules whose place covers `point`: their own geometry, or their building's footprint."""
        return self.filter(models.Q(geom__covers=point) | models.Q(building__geom__covers=point))

    def latest_first(self) -> RuleQuerySet:
        """The most recent rule first (later valid_from, then later id): it is the one that applies."""
        return self.order_by("-valid_from", "-id")


class VerdictRecordQuerySet(models.QuerySet):
    def not_superseded(self) -> VerdictRecordQuerySet:
        """Records not superseded by a later re-resolution."""
        return self.filter(superseded_by__isnull=True)

    def in_generation(self, generation) -> VerdictRecordQuerySet:
        """Records that were decided against `generation`."""
        return self.filter(generation=generation)


class DisputeQuerySet(models.QuerySet):
    def visible_to(self, scope) -> DisputeQuerySet:
        """Disputes a user's scope may see: all for city-wide roles, else those touching their district/street."""
        if scope.city_wide:
            return self
        if scope.district_code:
            return self.filter(district_codes__contains=[scope.district_code])
        if scope.street_code:
            return self.filter(contested_codes__contains=[scope.street_code])
        return self.none()

    def open(self) -> DisputeQuerySet:
        """Disputes not yet ruled or withdrawn."""
        return self.filter(status__in=["open", "under_review"])
