"""查询参数 One vocabulary of query parameters for /api/v1/, one parser per kind (docs/api.md).

- a day: `at=YYYY-MM-DD` (`invalid_date`);
- a range: `from`, `to`, each a date or an ISO 8601 date-time (Beijing time without an offset); `to` as a bare date
  includes that day (`invalid_date`, `date_out_of_range`, `invalid_range`);
- a yes/no filter (`overdue`, `significant`, `chronic`, `include_ended`, `download`): `true` or `false`
  (`invalid_boolean`);
- an extent: `bbox=minlon,minlat,maxlon,maxlat` in WGS-84 (`invalid_bbox`);
- a coordinate system: `crs=wgs84|gcj02|bd09|cgcs2000` (`invalid_crs`);
- paging: `page` and `page_size` of the paginated GeoJSON lists (with `Link rel="next"` headers).

Views read their parameters through `Query(request)`. Names replaced by this vocabulary (`received_from`, `on`,
`all`, `period`, a boolean written `1`/`yes` …) keep working until `config.deprecation.SUNSET`; a request that uses
one is answered with `Deprecation`, `Sunset` and a `Link rel="deprecation"` naming the new spelling
(config/deprecation.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.geos import Polygon
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from config.api import ApiError, parse_bbox
from config.deprecation import mark_deprecated
from config.limits import date_problem
from geo import coords

# Beijing time: a date or a date-time without an offset means the hotline's local day.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
TRUE, FALSE = "true", "false"
# Spellings of a boolean that some endpoints took before the vocabulary: accepted, deprecated, until SUNSET.
LEGACY_BOOLEANS = {"1": True, "yes": True, "0": False, "no": False}


@dataclass(frozen=True)
class Alias:
    """A deprecated name and the name that replaces it (for the schema, the docs and the Deprecation header)."""

    old: str
    new: str
    endpoints: str = ""


# Every deprecated name still accepted, by endpoint; docs/api.md has the same table.
ALIASES = (
    Alias("received_from", "from", "/api/v1/complaints"),
    Alias("received_to", "to", "/api/v1/complaints"),
    Alias("on", "at", "/api/v1/rules"),
    Alias("all", "include_ended", "/api/v1/rules"),
    Alias("period", "from,to", "/api/v1/repeat-places, /api/v1/hotspots, /api/v1/hotspots/emerging"),
)


_DEPRECATED = {
    "received_from": (OpenApiTypes.DATETIME, "已弃用，请用 from deprecated: use `from`"),
    "received_to": (OpenApiTypes.DATETIME, "已弃用，请用 to deprecated: use `to`"),
    "on": (OpenApiTypes.DATE, "已弃用，请用 at deprecated: use `at`"),
    "all": (OpenApiTypes.BOOL, "已弃用，请用 include_ended deprecated: use `include_ended`"),
    "period": (OpenApiTypes.STR, "已弃用，请用 from、to deprecated: use `from` and `to` (YYYY-MM-DD,YYYY-MM-DD)"),
}

# The vocabulary's parameters as the OpenAPI document declares them.
AT_PARAMETER = OpenApiParameter(
    "at", OpenApiTypes.DATE, description="日期 the day (YYYY-MM-DD) whose boundaries or rules apply; default today"
)
FROM_PARAMETER = OpenApiParameter(
    "from",
    OpenApiTypes.STR,
    description="起 from, inclusive: YYYY-MM-DD or an ISO 8601 date-time (Beijing time without an offset)",
)
TO_PARAMETER = OpenApiParameter(
    "to", OpenApiTypes.STR, description="止 to: a date-time (exclusive) or YYYY-MM-DD (that day included)"
)
BBOX_PARAMETER = OpenApiParameter(
    "bbox", OpenApiTypes.STR, description="范围 minlon,minlat,maxlon,maxlat (WGS-84)", pattern=r"^[^,]+(,[^,]+){3}$"
)
CRS_PARAMETER = OpenApiParameter(
    "crs",
    OpenApiTypes.STR,
    enum=list(coords.SYSTEMS),
    default=coords.WGS84,
    description="坐标系 coordinate system of the input (GCJ-02 from Amap/Tencent, BD-09 from Baidu)",
)


def boolean_parameter(name: str, description: str) -> OpenApiParameter:
    """A yes/no filter of the vocabulary: `true` or `false`."""
    return OpenApiParameter(name, OpenApiTypes.STR, enum=[TRUE, FALSE], description=description)


def deprecated_parameters(*names: str) -> list[OpenApiParameter]:
    """Deprecated names, listed as such in the OpenAPI document (they work until SUNSET)."""
    return [
        OpenApiParameter(name, _DEPRECATED[name][0], description=_DEPRECATED[name][1], deprecated=True)
        for name in names
    ]


class Query:
    """The query parameters of one request, read by kind with the vocabulary's names, formats and errors."""

    def __init__(self, request):
        self.request = request
        self.params = request.query_params if hasattr(request, "query_params") else request.GET

    def text(self, name: str, *aliases: str) -> tuple[str | None, str]:
        """The value of `name` (or of the first deprecated alias given) and the name it came under."""
        for alias in aliases:
            if alias in self.params:
                mark_deprecated(self.request, alias, name)
        value = self.params.get(name)
        if value not in (None, ""):
            return value, name
        for alias in aliases:
            value = self.params.get(alias)
            if value not in (None, ""):
                return value, alias
        return None, name

    def boolean(self, name: str, *aliases: str) -> bool | None:
        """`true` or `false` (None when absent); anything else is a 400 `invalid_boolean`."""
        value, given = self.text(name, *aliases)
        if value is None:
            return None
        if value in (TRUE, FALSE):
            return value == TRUE
        legacy = LEGACY_BOOLEANS.get(value.lower())
        if legacy is not None:
            mark_deprecated(self.request, f"{given}={value}", f"{name}={TRUE if legacy else FALSE}")
            return legacy
        raise ApiError("invalid_boolean", f"{given} 须为 true 或 false {given} must be true or false", {given: value})

    def day(self, name: str = "at", *aliases: str) -> dt.date | None:
        """A day `YYYY-MM-DD` (None when absent)."""
        value, given = self.text(name, *aliases)
        if value is None:
            return None
        try:
            day = dt.date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ApiError("invalid_date", f"{given} 须为日期 YYYY-MM-DD must be a date", {given: value})
        # No DATE_MIN..DATE_MAX here: a day before any boundary version is a fair question (answer: none in force).
        return day

    def moment(self, name: str, *aliases: str, end: bool = False) -> dt.datetime | None:
        """A date or an ISO 8601 date-time (Beijing time without an offset). As `end`, a bare date means the next
        midnight, so that the day is included."""
        value, given = self.text(name, *aliases)
        if value is None:
            return None
        return parse_moment(value, given, end=end)

    def moment_range(self, *, from_aliases=(), to_aliases=()) -> tuple[dt.datetime | None, dt.datetime | None]:
        """`from` (inclusive) and `to` (exclusive; a bare date includes that day) as aware date-times."""
        start = self.moment("from", *from_aliases)
        end = self.moment("to", *to_aliases, end=True)
        if start is not None and end is not None and start >= end:
            raise ApiError("invalid_range", "from 须早于 to from must be before to", self._range_details())
        return start, end

    def day_range(self, *, legacy_period: bool = False) -> tuple[dt.date | None, dt.date | None]:
        """`from` and `to` as days, both included (a date-time counts as its day); with `legacy_period` the
        deprecated `period=YYYY-MM-DD,YYYY-MM-DD` stands in for both."""
        start_text, _ = self.text("from")
        end_text, _ = self.text("to")
        if legacy_period and start_text is None and end_text is None and self.params.get("period"):
            mark_deprecated(self.request, "period", "from,to")
            return _period(self.params["period"])
        if legacy_period and "period" in self.params:
            mark_deprecated(self.request, "period", "from,to")
        start = parse_moment(start_text, "from") if start_text else None
        end = parse_moment(end_text, "to") if end_text else None
        start_day = start.astimezone(LOCAL_TZ).date() if start else None
        end_day = end.astimezone(LOCAL_TZ).date() if end else None
        if start_day and end_day and start_day > end_day:
            raise ApiError("invalid_range", "from 须早于 to from must be before to", self._range_details())
        return start_day, end_day

    def bbox(self) -> Polygon | None:
        """`bbox=minlon,minlat,maxlon,maxlat` (WGS-84) as a Polygon with srid 4326, or None."""
        return parse_bbox(self.params.get("bbox"))

    def crs(self, default: str = coords.WGS84, allowed: tuple[str, ...] = coords.SYSTEMS) -> str:
        """`crs` as a canonical system name (`GCJ-02`, `EPSG:4490` … are understood); 400 `invalid_crs`."""
        value = self.params.get("crs")
        if value in (None, ""):
            return default
        try:
            system = coords.normalise_system(value)
        except coords.CoordinateError:
            system = None
        if system not in allowed:
            raise ApiError(
                "invalid_crs",
                f"坐标系无效 unknown crs; use one of {', '.join(allowed)}",
                {"crs": value, "allowed": list(allowed)},
            )
        return system

    def _range_details(self) -> dict:
        return {"from": self.params.get("from"), "to": self.params.get("to")}


def parse_moment(value: str, name: str, *, end: bool = False) -> dt.datetime:
    """An ISO date or date-time (Beijing time when no offset); a bare date as `end` means the next midnight."""
    invalid = ApiError(
        "invalid_date", f"{name} 须为 ISO 8601 日期或时间 must be an ISO 8601 date or date-time", {name: value}
    )
    try:
        # A bare date first: parse_datetime also reads "2025-05-06" (as its midnight), which would make `end` miss
        # that day.
        day = parse_date(value) if len(value) == 10 else None
        moment = parse_datetime(value) if day is None else None
    except ValueError:  # well-formed but no such day or time: 2025-02-30, month 99
        raise invalid from None
    if moment is None and day is None:
        raise invalid
    _check_range(moment or day, name, value)
    if moment is None:
        if end:
            day += dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def _check_range(value, name: str, given: str) -> None:
    problem = date_problem(value)
    if problem is not None:
        raise ApiError("date_out_of_range", f"{name} 超出日期范围 out of range: {problem}", {name: given})


def _period(value: str) -> tuple[dt.date | None, dt.date | None]:
    """The deprecated `period=YYYY-MM-DD,YYYY-MM-DD` (either end may be empty)."""
    parts = value.split(",")
    days: list[dt.date | None] = []
    for part in parts if len(parts) == 2 else ["?", "?"]:
        try:
            days.append(dt.date.fromisoformat(part) if part else None)
        except ValueError:
            raise ApiError(
                "invalid_date", "period 无效 invalid period; use from=YYYY-MM-DD&to=YYYY-MM-DD", {"period": value}
            ) from None
    for day in days:
        if day is not None:
            _check_range(day, "period", value)
    start, end = days
    if start and end and start > end:
        raise ApiError("invalid_range", "period 起止颠倒 period start is after its end", {"period": value})
    return start, end
