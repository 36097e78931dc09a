"""The vocabulary of complaints: where, when, what kind, in which state, and late or not."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.db.models import Q
from django.utils import timezone

from jurisdictions.constants import Role

from .constants import OPEN_STATUSES, PartyKind, ReturnDecision

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

    def readable_by(self, scope) -> ComplaintQuerySet:
        """Complaints a user's scope may read (谁能看哪些诉求) — the one read policy of lists, pages, tiles and exports.

        City-wide roles (admin, planner) and the hotline's systems (api_client): all. District staff: complaints
        whose verdict (district, street or lead) lies in their district, or ever assigned to a unit of it. Street
        staff: likewise for their street. Department staff: complaints assigned to their department. Anyone else
        (no role, no area): none. Assignments count whatever their state, so a unit that returned a ticket can still
        read what it returned.
        """
        if scope.city_wide or scope.role == Role.API_CLIENT:
            return self
        assignments = self.model._meta.get_field("assignments").related_model.objects
        if scope.role == Role.DISTRICT and scope.district_code:
            code = scope.district_code
            verdict = Q(district_code=code) | Q(street_code__startswith=code) | Q(lead_code__startswith=code)
            units = assignments.filter(area_code__startswith=code)
        elif scope.role == Role.STREET and scope.street_code:
            code = scope.street_code
            verdict = Q(street_code=code) | Q(lead_code=code)
            units = assignments.filter(area_code=code)
        elif scope.role == Role.DEPARTMENT and scope.department_code:
            return self.filter(pk__in=assignments.filter(department__code=scope.department_code).values("complaint_id"))
        else:
            return self.none()
        return self.filter(verdict | Q(pk__in=units.values("complaint_id")))


class AssignmentQuerySet(models.QuerySet):
    def active(self) -> AssignmentQuerySet:
        """Assignments whose unit currently holds the ticket."""
        return self.filter(state="active")


class ReturnRequestQuerySet(models.QuerySet):
    def pending(self) -> ReturnRequestQuerySet:
        """Returns (退单) waiting for review: the review queue."""
        return self.filter(decision=ReturnDecision.PENDING)


class JointCaseQuerySet(models.QuerySet):
    def visible_to(self, scope) -> JointCaseQuerySet:
        """Joint cases a user takes part in — the one read policy of the case list, its detail, board and map.

        City-wide roles: all. Street or district staff: the cases one of whose leads lies in their area. Summoned
        parties: their department's staff, their street's staff, or (a district summoned) the district's staff.
        Anyone else (the hotline's systems included): none.
        """
        if scope.city_wide:
            return self
        parties = self.model._meta.get_field("parties").related_model.objects
        if scope.role == Role.DEPARTMENT and scope.department_code:
            return self.filter(
                pk__in=parties.filter(kind=PartyKind.DEPARTMENT, code=scope.department_code).values("case_id")
            )
        if scope.role == Role.STREET and scope.street_code:
            leads = Q(lead_codes__contains=[scope.street_code])
            summoned = parties.filter(kind=PartyKind.STREET, code=scope.street_code)
        elif scope.role == Role.DISTRICT and scope.district_code:
            leads = Q(district_codes__contains=[scope.district_code])
            summoned = parties.exclude(kind__in=[PartyKind.DEPARTMENT, PartyKind.STREET]).filter(
                code=scope.district_code
            )
        else:
            return self.none()
        return self.filter(leads | Q(pk__in=summoned.values("case_id")))
