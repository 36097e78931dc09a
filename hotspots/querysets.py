"""The spatial vocabulary of hotspots: layers by run, place, street, category and period."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry


class ParcelQuerySet(models.QuerySet):
    def candidates(self) -> ParcelQuerySet:
        """Parcels that could be fixed: idle (闲置) or vacant (空置待建), not in use."""
        return self.filter(status__in=["idle", "vacant"])

    def intersecting(self, geom: GEOSGeometry) -> ParcelQuerySet:
        """Parcels whose outline intersects `geom` (bbox filters)."""
        return self.filter(geom__intersects=geom)

    def in_street(self, code: str) -> ParcelQuerySet:
        """Parcels in the street (街道/乡镇) with this code."""
        return self.filter(street_code=code)


class ParkQuerySet(models.QuerySet):
    def intersecting(self, geom: GEOSGeometry) -> ParkQuerySet:
        """Parks whose outline intersects `geom`."""
        return self.filter(geom__intersects=geom)


class AnalysisRunQuerySet(models.QuerySet):
    def of_layer(self, layer: str) -> AnalysisRunQuerySet:
        """Runs that computed `layer`."""
        return self.filter(layer=layer)

    def finished(self) -> AnalysisRunQuerySet:
        """Runs that completed."""
        return self.filter(finished_at__isnull=False)

    def for_category(self, category: str | None) -> AnalysisRunQuerySet:
        """Runs computed for exactly this category filter ("" or None: all categories)."""
        return self.filter(category=category or "")

    def overlapping(self, start: dt.date | None, end: dt.date | None) -> AnalysisRunQuerySet:
        """Runs whose period overlaps [start, end] (either end open when None)."""
        qs = self
        if start is not None:
            qs = qs.filter(period_end__gte=start)
        if end is not None:
            qs = qs.filter(period_start__lte=end)
        return qs

    def latest_first(self) -> AnalysisRunQuerySet:
        """The newest run first."""
        return self.order_by("-finished_at", "-id")


class _LayerQuerySet(models.QuerySet):
    geom_field = "geom"

    def of_run(self, run) -> _LayerQuerySet:
        """Features of one analysis run."""
        return self.filter(run=run)

    def intersecting(self, geom: GEOSGeometry) -> _LayerQuerySet:
        """Features whose geometry intersects `geom` (bbox filters)."""
        return self.filter(**{f"{self.geom_field}__intersects": geom})

    def in_street(self, code: str) -> _LayerQuerySet:
        """Features whose responsible street (街道/乡镇) has this code."""
        return self.filter(street_code=code)


class RepeatPlaceQuerySet(_LayerQuerySet):
    geom_field = "point"

    def of_category(self, code: str) -> RepeatPlaceQuerySet:
        """Repeat places of categories whose code starts with `code` (a 大类 or 中类 code takes its children)."""
        return self.filter(category_code__startswith=code)

    def active_between(self, start: dt.date | None, end: dt.date | None) -> RepeatPlaceQuerySet:
        """Repeat places with reports inside [start, end]: last report on/after start, first on/before end."""
        qs = self
        if start is not None:
            qs = qs.filter(last_at__date__gte=start)
        if end is not None:
            qs = qs.filter(first_at__date__lte=end)
        return qs

    def chronic(self) -> RepeatPlaceQuerySet:
        """Chronic places (顽疾): enough reports over a long enough span."""
        return self.filter(chronic=True)


class HotspotCellQuerySet(_LayerQuerySet):
    def significant(self) -> HotspotCellQuerySet:
        """Cells in a hot or cold bin (bin ≠ 0)."""
        return self.exclude(bin=0)


class EmergingCellQuerySet(_LayerQuerySet):
    def with_pattern(self, patterns) -> EmergingCellQuerySet:
        """Cells whose emerging pattern is one of `patterns`."""
        return self.filter(pattern__in=list(patterns))

    def detected(self) -> EmergingCellQuerySet:
        """Cells with a pattern (not "none")."""
        return self.exclude(pattern="none")


class LotScoreQuerySet(models.QuerySet):
    def of_run(self, run) -> LotScoreQuerySet:
        """Scores of one ranking run, best first."""
        return self.filter(run=run).order_by("rank")

    def intersecting(self, geom: GEOSGeometry) -> LotScoreQuerySet:
        """Scores of lots whose outline intersects `geom`."""
        return self.filter(parcel__geom__intersects=geom)

    def in_street(self, code: str) -> LotScoreQuerySet:
        """Scores of lots in the street with this code."""
        return self.filter(parcel__street_code=code)


class FixPlanQuerySet(models.QuerySet):
    def intersecting(self, geom: GEOSGeometry) -> FixPlanQuerySet:
        """Plans whose lot intersects `geom`."""
        return self.filter(parcel__geom__intersects=geom)

    def in_street(self, code: str) -> FixPlanQuerySet:
        """Plans whose responsible street has this code."""
        return self.filter(street_code=code)

    def visible_to(self, scope) -> FixPlanQuerySet:
        """Plans a user's scope may read — as fix plans are written, by area: city-wide roles (admin, planner) and
        the hotline's systems read all; district staff their district's plans, street staff their street's,
        department staff the plans that summon their department; anyone else (anonymous, no role) none."""
        from jurisdictions.constants import Role

        if scope.city_wide or scope.role == Role.API_CLIENT:
            return self
        if scope.role == Role.DISTRICT and scope.district_code:
            return self.filter(
                models.Q(district_code=scope.district_code) | models.Q(street_code__startswith=scope.district_code)
            )
        if scope.role == Role.STREET and scope.street_code:
            return self.filter(street_code=scope.street_code)
        if scope.role == Role.DEPARTMENT and scope.department_code:
            return self.filter(departments__contains=[{"code": scope.department_code}])
        return self.none()
