"""The vocabulary of complaints: where, when, what kind, in which state, and late or not."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.utils import timezone

from .constants import OPEN_STATUSES, ReturnDecision

_METRES_PER_DEGREE = 111_320.0


def _degrees_for(metres: float, latitude: float) -> float:
    """Degrees that are at least `metres` in every direction at `latitude` (a prefilter for the index)."""
    return metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))


class CategoryQuerySet(models.QuerySet):
    def leaves(self) -> CategoryQuerySet:
        """Third-level items (小类): the ones a complaint is filed under."""
        return self.filter(level=3)

    def active(self) -> CategoryQuerySet:
        """Items still offered for new complaints."""
        return self.filter(active=True)


class CalendarDayQuerySet(models.QuerySet):
    def between(self, start: dt.date, end: dt.date) -> CalendarDayQuerySet:
        """Calendar exceptions (holidays, make-up working days) from `start` to `end` inclusive."""
        return self.filter(date__gte=start, date__lte=end)


class ComplaintQuerySet(models.QuerySet):
    def in_bbox(self, bbox: Polygon) -> ComplaintQuerySet:
        """Complaints whose location lies in `bbox` (EPSG:4326, index-assisted)."""
        return self.filter(location__coveredby=bbox)

    def within_m(self, point: Point, metres: float) -> ComplaintQuerySet:
        """Complaints within `metres` of `point`, measured on the spheroid; annotates `distance_m`.

        A degree box first lets the GiST index on the 4326 column cut the candidates; the exact test then uses
        the spheroidal distance, so the radius means metres everywhere, not degrees.
        """
        tolerance = _degrees_for(metres, point.y)
        return (
            self.filter(location__dwithin=(point, tolerance))
            .annotate(distance_m=Distance("location", point))
            .filter(distance_m__lte=metres)
        )

    def received_between(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> ComplaintQuerySet:
        """Complaints received in [start, end) (either end open when None)."""
        qs = self
        if start is not None:
            qs = qs.filter(received_at__gte=start)
        if end is not None:
            qs = qs.filter(received_at__lt=end)
        return qs

    def open(self) -> ComplaintQuerySet:
        """Complaints still being handled (not resolved or closed)."""
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> ComplaintQuerySet:
        """Open complaints whose deadline has passed (超期)."""
        return self.open().filter(deadline_at__lt=now or timezone.now())

    def for_street(self, code: str) -> ComplaintQuerySet:
        """Complaints whose verdict names the street (街道/乡镇) with this code."""
        return self.filter(street_code=code)

    def for_district(self, code: str) -> ComplaintQuerySet:
        """Complaints whose verdict names the district (区) with this code."""
        return self.filter(district_code=code)

    def in_category(self, code: str) -> ComplaintQuerySet:
        """Complaints filed under the category `code` or any item below it in the catalogue."""
        return self.filter(category__code__startswith=code)


class AssignmentQuerySet(models.QuerySet):
    def active(self) -> AssignmentQuerySet:
        """Assignments whose unit currently holds the ticket."""
        return self.filter(state="active")


class ReturnRequestQuerySet(models.QuerySet):
    def pending(self) -> ReturnRequestQuerySet:
        """Returns (退单) waiting for review: the review queue."""
        return self.filter(decision=ReturnDecision.PENDING)
