"""The query parameters of OGC API – Features (Part 1, Core): limit, offset, bbox, datetime, crs, f.

Each parser refuses what it cannot use with an `ApiError` (400, the project's error shape); nothing is silently
dropped or clamped except `limit`, which the standard lets a server lower to its maximum.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.contrib.gis.geos import Polygon
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.api import ApiError
from config.limits import date_problem

# Beijing time for dates and date-times given without an offset (the complaints' own convention).
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8))

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Names a client may use for CRS84 in `crs` / `bbox-crs` (the only system served: Part 2 is not offered).
CRS84_NAMES = {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "CRS84", "OGC:CRS84"}


def parse_limit(value: str | None) -> int:
    """`limit`: 1…MAX_LIMIT, default DEFAULT_LIMIT; a larger value is lowered to MAX_LIMIT (allowed by /req/core/
    fc-limit-response-1), anything else not a positive integer is a 400."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ApiError("invalid_limit", f"limit 须为正整数 limit must be an integer ≥ 1 (at most {MAX_LIMIT})", {})
    return min(number, MAX_LIMIT)


def parse_offset(value: str | None) -> int:
    """`offset`: where the page starts (0-based), as the `next`/`prev` links write it."""
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number < 2**31:
        raise ApiError("invalid_offset", "offset 须为非负整数 offset must be an integer ≥ 0", {"offset": value})
    return number


def parse_bbox(value: str | None) -> Polygon | None:
    """`bbox`: minlon,minlat,maxlon,maxlat in CRS84 (six numbers: the heights are ignored); a Polygon, srid 4326."""
    if value in (None, ""):
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise ApiError("invalid_bbox", "bbox 无效 bbox must be minlon,minlat,maxlon,maxlat", {"bbox": value})
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise ApiError(
            "invalid_bbox", "bbox 无效 bbox needs min < max within ±180/±90 (no antimeridian crossing)", {"bbox": value}
        )
    polygon = Polygon.from_bbox((minx, miny, maxx, maxy))
    polygon.srid = 4326
    return polygon


def parse_crs(value: str | None, name: str) -> None:
    """`crs` / `bbox-crs`: only CRS84 (WGS-84 longitude, latitude) is served."""
    if value in (None, "") or value.strip("<>") in CRS84_NAMES:
        return
    raise ApiError(
        "invalid_crs",
        f"{name} 仅支持 CRS84 only CRS84 is served ({CRS84})",
        {name: value, "supported": [CRS84]},
    )


def parse_format(value: str | None) -> None:
    """`f`: json (the default); HTML is not served."""
    if value in (None, "", "json", "geojson"):
        return
    raise ApiError("invalid_format", "f 仅支持 json only f=json is served", {"f": value, "supported": ["json"]})


@dataclass(frozen=True)
class Interval:
    """A `datetime` value: an instant (start == end) or a closed interval with open ends as None.

    `start_day` / `end_day` are the Beijing dates of the ends (a date-time given without an offset is Beijing time).
    """

    start: dt.datetime | None
    end: dt.datetime | None
    instant: bool

    @property
    def start_day(self) -> dt.date | None:
        return self.start.astimezone(LOCAL_TZ).date() if self.start else None

    @property
    def end_day(self) -> dt.date | None:
        return self.end.astimezone(LOCAL_TZ).date() if self.end else None


def _moment(text: str, *, end: bool) -> dt.datetime | None:
    """One end of an interval: `..` or empty is open (None); a date is its first (or, as an end, last) moment."""
    if text in ("", ".."):
        return None
    invalid = ApiError(
        "invalid_datetime",
        "datetime 无效 datetime must be RFC 3339: 2025-03-01, 2025-03-01T08:00:00Z, or an interval a/b, ../b, a/..",
        {"datetime": text},
    )
    try:
        # A bare date first: parse_datetime would read "2025-03-01" as its midnight, also as an interval's end.
        day = parse_date(text) if len(text) == 10 else None
        moment = parse_datetime(text) if day is None else None
    except ValueError:
        raise invalid from None
    if moment is None and day is None:
        raise invalid
    problem = date_problem(moment or day)
    if problem is not None:
        raise ApiError("date_out_of_range", f"datetime 超出日期范围 out of range: {problem}", {"datetime": text})
    if moment is None:
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=LOCAL_TZ)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def parse_datetime_param(value: str | None) -> Interval | None:
    """`datetime`: an instant (a date means that whole day) or an interval `start/end` with `..` for an open end."""
    if value in (None, ""):
        return None
    if "/" in value:
        first, _, second = value.partition("/")
        start, end = _moment(first, end=False), _moment(second, end=True)
        if start is None and end is None:
            raise ApiError("invalid_datetime", "datetime 区间两端不能都开放 both ends of the interval are open", {})
        if start and end and start > end:
            raise ApiError(
                "invalid_datetime", "datetime 起止颠倒 the interval starts after it ends", {"datetime": value}
            )
        return Interval(start, end, instant=False)
    start = _moment(value, end=False)
    if len(value) == 10:  # a date: the whole day
        return Interval(start, _moment(value, end=True), instant=True)
    return Interval(start, start, instant=True)


def parse_flag(value: str, name: str) -> bool:
    """A boolean property filter: true or false."""
    if value in ("true", "false"):
        return value == "true"
    raise ApiError("invalid_filter", f"{name} 须为 true 或 false must be true or false", {name: value})


def parse_int(value: str, name: str) -> int:
    """An integer property filter."""
    try:
        return int(value)
    except ValueError:
        raise ApiError("invalid_filter", f"{name} 须为整数 must be an integer", {name: value}) from None
