"""Reads of the assessment (三率考核): the figures counted from stored complaints, and the stored months.

`unit_figures` is the one query that counts: a single SQL statement over complaints, their assignments and
status history, grouped by unit — PostgreSQL aggregates, Python only sees one row per unit. Definitions are in
docs/assessment.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from complaints.constants import OPEN_STATUSES, Satisfaction, Status
from complaints.deadlines import LOCAL_TZ
from complaints.models import Assignment, Complaint, StatusChange
from jurisdictions.models import Area, Department

from .constants import Level, response_hours
from .models import AssessmentMonth, UnitAssessment

# A first handling step at or after the unit received the ticket counts as its response (签收 or later).
RESPONSE_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)


@dataclass(frozen=True)
class UnitFigures:
    """What `unit_figures` counts for one unit in one month."""

    code: str
    name: str
    parent_code: str
    complaints: int
    response_due: int
    responded_in_time: int
    called_back: int
    solved: int
    rated: int
    satisfied: int
    overdue: int


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month as [start, end) in Beijing time (complaints are assessed in the month they were received)."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=LOCAL_TZ)
    following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, following


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` → the month's first day; ValueError otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError):
        raise ValueError(f"month 须为 YYYY-MM month must be YYYY-MM: {text!r}") from None


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


# Who a complaint is counted for, per level: the assignments of that kind the unit did not return (a return that
# was upheld moves the ticket to another unit, which is then assessed for it).
_UNIT_SQL = {
    Level.STREET: (
        "a.area_code",
        "a.unit_name",
        "left(a.area_code, 6)",
        "a.role = 'lead' AND a.area_level = 'street' AND a.area_code <> ''",
        "",
    ),
    Level.DISTRICT: (
        "left(a.area_code, 6)",
        "''",
        "''",
        "a.role = 'lead' AND a.area_level IN ('street', 'district') AND a.area_code <> ''",
        "",
    ),
    Level.DEPARTMENT: (
        "d.code",
        "d.name",
        "d.district_code",
        "a.department_id IS NOT NULL",
        "JOIN {department} d ON d.id = a.department_id",
    ),
}


def unit_figures(*, month: dt.date, level: str, as_of: dt.datetime | None = None) -> list[UnitFigures]:
    """三率 counts per unit of `level` for complaints received in `month` (Beijing time), as things stand at `as_of`
    (now by default): one SQL statement, grouped by unit.

    - the clock of the response starts when the unit received the ticket: at the complaint's receipt for units
      assigned at intake, at the assignment for units assigned later (re-dispatch);
    - responded in time: a first handling step (签收 accepted, in progress, resolved, closed) at or after that start
      and within the urgency's limit (`constants.response_hours`); due: responded, or the limit has passed;
    - called back (回访): a satisfaction rating, a closure, or a reopening after resolution; solved: closed;
    - satisfied: 满意 or 基本满意 among the rated;
    - overdue: resolved (or closed) after the deadline, or still open past it at `as_of`.
    """
    if level not in _UNIT_SQL:
        raise ValueError(f"unknown level {level!r}")
    code, name, parent, where, join = _UNIT_SQL[level]
    start, end = month_bounds(month)
    hours = response_hours()
    tables = {
        "complaint": Complaint._meta.db_table,
        "assignment": Assignment._meta.db_table,
        "history": StatusChange._meta.db_table,
        "department": Department._meta.db_table,
    }
    join = join.format(**tables)
    open_statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    response_statuses = ", ".join(f"'{s}'" for s in RESPONSE_STATUSES)
    satisfied = ", ".join(f"'{s}'" for s in SATISFIED)
    sql = f"""
        WITH c AS (
            SELECT id, received_at, urgency, status, satisfaction, deadline_at, resolved_at, closed_at
            FROM {tables["complaint"]}
            WHERE received_at >= %(start)s AND received_at < %(end)s
        ), a AS (
            SELECT a.*, CASE WHEN a.created_at <= min(a.created_at) OVER (PARTITION BY a.complaint_id)
                             THEN c.received_at ELSE a.created_at END AS clock_start
            FROM {tables["assignment"]} a JOIN c ON c.id = a.complaint_id
        ), u AS (
            SELECT DISTINCT ON (a.complaint_id, {code})
                   a.complaint_id, {code} AS code, {name} AS name, {parent} AS parent_code, a.clock_start
            FROM a {join}
            WHERE {where} AND a.state <> 'returned'
            ORDER BY a.complaint_id, {code}, a.clock_start
        ), f AS (
            SELECT u.code, u.name, u.parent_code, c.status, c.satisfaction, c.deadline_at,
                   COALESCE(c.resolved_at, c.closed_at,
                            CASE WHEN c.status IN ({open_statuses}) THEN %(as_of)s END) AS finished_or_now,
                   (SELECT min(s.at) FROM {tables["history"]} s
                     WHERE s.complaint_id = c.id AND s.to_status IN ({response_statuses})
                       AND s.at >= u.clock_start) AS responded_at,
                   u.clock_start + make_interval(secs => 3600 * CASE c.urgency
                       WHEN 'emergency' THEN %(h_emergency)s WHEN 'utility' THEN %(h_utility)s
                       WHEN 'complex' THEN %(h_complex)s ELSE %(h_general)s END) AS respond_by,
                   EXISTS (SELECT 1 FROM {tables["history"]} s
                            WHERE s.complaint_id = c.id AND s.to_status = 'reopened'
                              AND s.from_status IN ('resolved', 'closed')) AS reopened
            FROM u JOIN c ON c.id = u.complaint_id
        )
        SELECT code, max(name), max(parent_code), count(*),
               count(*) FILTER (WHERE responded_at IS NOT NULL OR respond_by <= %(as_of)s),
               count(*) FILTER (WHERE responded_at <= respond_by),
               count(*) FILTER (WHERE satisfaction <> '' OR status = 'closed' OR reopened),
               count(*) FILTER (WHERE status = 'closed'),
               count(*) FILTER (WHERE satisfaction <> ''),
               count(*) FILTER (WHERE satisfaction IN ({satisfied})),
               count(*) FILTER (WHERE deadline_at IS NOT NULL AND finished_or_now > deadline_at)
        FROM f
        GROUP BY code
        ORDER BY code
    """
    params = {
        "start": start,
        "end": end,
        "as_of": as_of or timezone.now(),
        **{
            f"h_{key}": float(hours.get(key, hours["general"]))
            for key in ("emergency", "utility", "complex", "general")
        },
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [UnitFigures(*row) for row in cursor.fetchall()]
    if level == Level.DISTRICT and rows:
        names = dict(
            Area.objects.current(end.date() - dt.timedelta(days=1))
            .of_level("district")
            .filter(code__in=[r.code for r in rows])
            .values_list("code", "name")
        )
        rows = [UnitFigures(**{**r.__dict__, "name": names.get(r.code, r.code)}) for r in rows]
    return rows


def months_with_complaints() -> list[dt.date]:
    """Every month (Beijing time) in which complaints were received, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE %s)::date FROM {Complaint._meta.db_table}"
            " ORDER BY 1",
            [str(LOCAL_TZ)],
        )
        return [row[0] for row in cursor.fetchall()]


def computed_months() -> list[dt.date]:
    """Months whose assessment is stored, newest first."""
    return list(AssessmentMonth.objects.values_list("month", flat=True))


def assessment_month(*, month: dt.date) -> AssessmentMonth | None:
    return AssessmentMonth.objects.filter(month=month).first()


def assessment_list(*, month: dt.date, level: str) -> QuerySet[UnitAssessment]:
    """The stored ranking of one month and level, best first (units too small to rank last)."""
    return UnitAssessment.objects.of_month(month).of_level(level).ranked_first()


def unit_trend(*, level: str, code: str) -> QuerySet[UnitAssessment]:
    """One unit's stored months, oldest first (the month-over-month trend)."""
    return UnitAssessment.objects.of_level(level).filter(code=code).order_by("month")


def area_shapes(*, level: str, on: dt.date, simplify_m: float = 30.0) -> dict[str, dict]:
    """Boundaries of the areas of `level` in force on `on`, as GeoJSON text by code (simplified, for drawing)."""
    areas = Area.objects.current(on).of_level(level).with_geojson(simplify_m=simplify_m, precision=5)
    return {code: geojson for code, geojson in areas.values_list("code", "geojson")}
