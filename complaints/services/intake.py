"""Intake (受理): locating a complaint (coordinates or geocoded address), its verdict from the jurisdiction
engine, dispatch, and linking repeats (重复诉求)."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.limits import date_problem, limit, text_problem
from jurisdictions import engine
from jurisdictions.selectors import QueryError, parse_point

from .. import permissions
from ..constants import (
    Channel,
    LocationSource,
    Status,
    Urgency,
    repeat_radius_m,
    repeat_window_days,
)
from ..deadlines import LOCAL_TZ, deadline_for
from ..models import (
    Category,
    Complaint,
    RepeatLink,
)
from .base import AddressNotFound, ComplaintError, _apply_verdict, _dispatch, _history

# --- location --------------------------------------------------------------------------------------------------


def geocode_address(text: str):
    """The best geocoder candidate for `text`; AddressNotFound when there is none (or no geocoder is installed).

    The geocoder lives in geo.geocoding and is looked up when called, so intake by coordinates works on a
    deployment without a gazetteer.
    """
    try:
        geocoding = importlib.import_module("geo.geocoding")
    except ImportError:
        raise AddressNotFound(text, "没有可用的地址解析服务 no geocoder installed") from None
    candidates = geocoding.geocode(text, limit=1)
    if not candidates:
        raise AddressNotFound(text)
    return candidates[0]


def verdict_for(*, point, at: dt.date, input: dict, accuracy_m: float | None):
    """The jurisdiction verdict from the engine's one entry point (`jurisdictions.engine.lookup`)."""
    return engine.lookup(point=point, at=at, input=input, accuracy_m=accuracy_m or None)


# --- intake ----------------------------------------------------------------------------------------------------


@dataclass
class IntakeData:
    """What a channel hands to intake; either lon/lat (in `crs`) or an address must be given."""

    category: str
    description: str = ""
    address: str = ""
    lon: Any = None
    lat: Any = None
    crs: str = "wgs84"
    external_id: str = ""
    received_at: dt.datetime | None = None
    channel: str = Channel.API
    urgency: str = ""
    location_source: str = ""
    accuracy_m: float | None = None
    confidence: float | None = None
    reporter: dict = field(default_factory=dict)


@dataclass
class IntakeResult:
    complaint: Complaint
    created: bool


def new_external_id(prefix: str = "SZ") -> str:
    """A ticket id for complaints whose source gives none: prefix, Beijing date, random part."""
    day = timezone.now().astimezone(LOCAL_TZ).strftime("%Y%m%d")
    return f"{prefix}{day}{uuid.uuid4().hex[:12].upper()}"


def category_leaf(code: str) -> Category:
    """The active third-level category with `code`, or ComplaintError."""
    category = Category.objects.filter(code=str(code).strip(), level=3, active=True).select_related("parent").first()
    if category is None:
        raise ComplaintError(
            "unknown_category",
            f"分类无效 unknown category {code!r}: use a third-level code of the catalogue",
            {"category": code},
        )
    return category


def _located(data: IntakeData) -> dict:
    """Point (WGS-84), input echo, source, accuracy and confidence from coordinates or from the address."""
    has_coords = data.lon not in (None, "") or data.lat not in (None, "")
    if has_coords:
        try:
            point, echo = parse_point(data.lon, data.lat, data.crs or "wgs84")
        except QueryError as exc:
            raise ComplaintError(exc.code, exc.message, exc.details) from exc
        source = data.location_source or LocationSource.GPS
        return dict(
            point=point,
            echo=echo,
            source=source,
            accuracy_m=data.accuracy_m,
            confidence=data.confidence,
            input_lon=echo["lon"],
            input_lat=echo["lat"],
            crs=echo["crs"],
        )
    if not (data.address or "").strip():
        raise ComplaintError("location_required", "需要坐标或地址 give a point (lon/lat or geometry) or an address", {})
    candidate = geocode_address(data.address.strip())
    point = Point(float(candidate.lon), float(candidate.lat), srid=4326)
    echo = {"address": data.address.strip(), "geocoded": getattr(candidate, "label", ""), "crs": "wgs84"}
    return dict(
        point=point,
        echo=echo,
        source=LocationSource.GEOCODED,
        accuracy_m=getattr(candidate, "radius_m", None) or data.accuracy_m,
        confidence=getattr(candidate, "confidence", None),
        input_lon=None,
        input_lat=None,
        crs="wgs84",
        candidate=candidate,
    )


def _check_choice(value: str, choices, name: str) -> None:
    if value not in choices.values:
        raise ComplaintError(
            f"invalid_{name}", f"{name} 无效 must be one of {', '.join(choices.values)}", {name: value}
        )


def _check_input_text(data: IntakeData) -> None:
    """Free text every channel hands in: storable (no NUL, no lone surrogate) and a description within
    DESCRIPTION_CHARS; the API and Open311 check this at their parsers too, this covers every other caller."""
    max_chars = limit("DESCRIPTION_CHARS")
    if len(data.description or "") > max_chars:
        raise ComplaintError(
            "field_too_long",
            f"description 过长 longer than {max_chars} characters",
            {"description": f"最多 at most {max_chars} characters", "max_chars": max_chars},
        )
    texts = {"external_id": data.external_id, "description": data.description, "address": data.address}
    texts.update({f"reporter.{k}": v for k, v in (data.reporter or {}).items() if isinstance(v, str)})
    for name, value in texts.items():
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ComplaintError("invalid_text", f"{name} 文本无效 invalid text: {problem}", {name: problem})


@transaction.atomic
def complaint_intake(*, data: IntakeData, by: Any) -> IntakeResult:
    """Take a complaint in: locate it, ask for the verdict, store it, dispatch it, link repeats.

    Idempotent on `external_id`: the same id again returns the stored complaint (created=False) and changes
    nothing. Allowed to api clients, administrators, and district or street staff for places in their scope.
    """
    permissions.check_intake(by)
    _check_input_text(data)
    external_id = (data.external_id or "").strip()
    if external_id:
        existing = Complaint.objects.filter(external_id=external_id).first()
        if existing is not None:
            return IntakeResult(existing, False)
    else:
        external_id = new_external_id()
    if len(external_id) > 64:
        raise ComplaintError("invalid_external_id", "工单号过长 external_id is longer than 64", {})
    category = category_leaf(data.category)
    urgency = data.urgency or category.urgency
    _check_choice(urgency, Urgency, "urgency")
    _check_choice(data.channel, Channel, "channel")
    if data.location_source:
        _check_choice(data.location_source, LocationSource, "location_source")
    if data.confidence is not None and not 0 <= float(data.confidence) <= 1:
        raise ComplaintError("invalid_confidence", "可信度须在 0–1 confidence must be in 0–1", {})
    received_at = data.received_at or timezone.now()
    if timezone.is_naive(received_at):
        received_at = received_at.replace(tzinfo=LOCAL_TZ)
    problem = date_problem(received_at)
    if problem is not None:
        raise ComplaintError(
            "date_out_of_range", f"received_at 超出日期范围 out of range: {problem}", {"received_at": str(received_at)}
        )
    where = _located(data)
    at = received_at.astimezone(LOCAL_TZ).date()
    verdict = verdict_for(point=where["point"], at=at, input=where["echo"], accuracy_m=where["accuracy_m"])
    result = verdict.as_dict()
    permissions.check_intake(
        by,
        codes=[
            (result.get("district") or {}).get("code", ""),
            (result.get("street") or {}).get("code", ""),
            (result.get("lead") or {}).get("code", ""),
        ],
    )
    complaint = Complaint(
        external_id=external_id,
        channel=data.channel,
        received_at=received_at,
        category=category,
        urgency=urgency,
        description=data.description or "",
        address=(data.address or "")[:300],
        location=where["point"],
        location_source=where["source"],
        input_crs=where["crs"],
        input_lon=where["input_lon"],
        input_lat=where["input_lat"],
        accuracy_m=where["accuracy_m"],
        confidence=where["confidence"],
        reporter=data.reporter or {},
        deadline_at=deadline_for(received_at, urgency),
    )
    _apply_verdict(complaint, result)
    complaint.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            complaint.save()
    except IntegrityError:
        # Another request stored the same ticket between our check and our insert: idempotent all the same.
        existing = Complaint.objects.filter(external_id=external_id).first()
        if existing is None:
            raise
        return IntakeResult(existing, False)
    _history(complaint, "", Status.RECEIVED, by, f"受理 received via {complaint.channel}")
    _dispatch(complaint, result, by)
    link_repeats(complaint=complaint)
    return IntakeResult(complaint, True)


# --- repeats ---------------------------------------------------------------------------------------------------


def link_repeats(*, complaint: Complaint, radius_m: float | None = None, window_days: int | None = None) -> int:
    """Link `complaint` to earlier complaints of the same category nearby and recent (重复诉求); returns how many.

    Defaults come from settings.SHAOZI REPEAT_RADIUS_M (250 m) and REPEAT_WINDOW_DAYS (30).
    """
    radius = repeat_radius_m() if radius_m is None else radius_m
    window = repeat_window_days() if window_days is None else window_days
    earlier = (
        Complaint.objects.exclude(pk=complaint.pk)
        .filter(category_id=complaint.category_id)
        .received_between(complaint.received_at - dt.timedelta(days=window), complaint.received_at)
        .within_m(complaint.location, radius)
        .values_list("pk", "distance_m", "received_at")
    )
    links = [
        RepeatLink(
            complaint=complaint,
            earlier_id=pk,
            distance_m=round(distance.m, 2),
            days_apart=round((complaint.received_at - received).total_seconds() / 86400, 3),
        )
        for pk, distance, received in earlier
    ]
    RepeatLink.objects.bulk_create(links, ignore_conflicts=True)
    return len(links)
