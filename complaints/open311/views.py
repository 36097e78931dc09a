"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) over the complaint services.

Services are the catalogue's third-level items (service_code = category code). A request's id is the
complaint's external id. Every endpoint answers in JSON or XML by its extension (`.json`, `.xml`; none means
JSON). Errors use Open311's shape, a list of {code, description}. Coordinates are WGS-84 as the standard says;
`crs` (gcj02, bd09, cgcs2000) is accepted as an extension for callers holding Chinese map coordinates.

Reads (services, requests) are public, as the standard has them, and carry no personal data (the reporter's
name, phone or e-mail are never shown). A request is shown in full (description, staff notes as `status_notes`,
address, exact position) only to a caller who may read the complaint — a logged-in user or token whose scope
covers it (`ComplaintQuerySet.readable_by`), and for an API client only the requests it submitted itself; anyone
else sees the service, status, times, the street (not the address) and a position rounded to 3 decimals (about
100 m), plus description and notes when `SHAOZI["OPEN311_PUBLISH_TEXT"]` says the jurisdiction publishes them.

POST requests need an API token, given as `Authorization: Token <key>` or as Open311's own `api_key` field (the
same key); the token's user must be allowed to take complaints in (403 without a valid key, as GeoReport v2 says,
and for a role or place outside its scope). A request is placed by lat/long, by `address_string` (geocoded) or by
`address_id` alone (a gazetteer place's id, `geo.models.Place.external_id`); `media_url` is kept and shown.

Searches span at most 90 days (`start_date`/`end_date`; with one of them the other is 90 days away, with neither
the last 90 days); a longer range is a 400 that says so. `updated_datetime` is the last real change: for a row of
a bulk import not touched since, the closing (or resolving) time the file gave, else its last status change — not
the time of the import. `discovery.json` describes the endpoint (GeoReport v2 service discovery).
"""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import AuthenticationFailed

from complaints import selectors, services
from complaints.constants import DONE_STATUSES, Channel, LocationSource, Status, Urgency
from complaints.deadlines import LOCAL_TZ
from complaints.models import Category, Complaint, StatusChange
from config.limits import InputError, date_problem, loads
from config.throttling import THROTTLED_MESSAGE, retry_after, throttle_wait
from geo.selectors import place_list
from jurisdictions.auth import ShaoziTokenAuthentication
from jurisdictions.constants import Role
from jurisdictions.permissions import Scope, ScopeDenied, scope_for
from jurisdictions.selectors import MAX_ACCURACY_M

MAX_RESULTS = 1000
# GeoReport v2: a search "may not span more than 90 days"; without dates it covers the most recent 90.
DEFAULT_WINDOW = dt.timedelta(days=90)

# Root and item element names of each XML document, as in the GeoReport v2 examples.
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _xml_value(parent: ElementTree.Element, key: str, value) -> None:
    node = ElementTree.SubElement(parent, key)
    if isinstance(value, list):
        child_name = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}.get(
            key, "item"
        )
        for item in value:
            if not isinstance(item, dict):
                ElementTree.SubElement(node, child_name).text = str(item)
                continue
            item_node = ElementTree.SubElement(node, child_name)
            for k, v in item.items():
                _xml_value(item_node, k, v)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def _render(payload, fmt: str, kind: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(payload, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    if kind in ("service_definition", "discovery"):
        root = ElementTree.Element(kind)
        for key, value in payload.items():
            _xml_value(root, key, value)
    else:
        root_name, item_name = XML_NAMES[kind]
        root = ElementTree.Element(root_name)
        for item in payload:
            node = ElementTree.SubElement(root, item_name)
            for key, value in item.items():
                _xml_value(node, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _render([{"code": status, "description": description}], fmt, "errors", status)


def _format(fmt: str | None) -> str:
    return (fmt or "json").lower()


def _throttle_user(request):
    """The user of a valid API token (header or `api_key`), so token callers are limited per user; else None
    (the session's user, or the client IP). An invalid token is refused later by the handler, not here."""
    key = str(request.GET.get("api_key") or "").strip()
    if not key and request.method == "POST":
        try:
            key = str(_post_data(request).get("api_key") or "").strip()
        except Open311Error:
            key = ""
    authentication = ShaoziTokenAuthentication()
    try:
        found = authentication.authenticate(request)
        if found is None and key:
            found = authentication.authenticate_credentials(key)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def open311_view(kind: str, methods: list[str]):
    """Wrap a handler: format check, method check, rate limits (`anon`/`user`, as the API), Open311 errors."""

    def decorator(handler):
        @csrf_exempt
        @require_http_methods(methods)
        def view(request, *args, fmt: str | None = None, **kwargs):
            fmt = _format(fmt)
            if fmt not in ("json", "xml"):
                return _error("json", 400, f"不支持的格式 unsupported format {fmt!r}: use .json or .xml")
            wait = throttle_wait(request, user=_throttle_user(request))
            if wait is not None:
                response = _error(fmt, 429, THROTTLED_MESSAGE.format(wait=retry_after(wait)))
                response["Retry-After"] = retry_after(wait)
                return response
            try:
                payload, status = handler(request, *args, **kwargs)
            except Open311Error as exc:
                return _error(fmt, exc.status, exc.description)
            # What a request shows depends on who asks (see _requests): no shared cache may mix callers.
            response = _render(payload, fmt, kind, status)
            patch_vary_headers(response, ("Cookie", "Authorization"))
            return response

        view.__name__ = handler.__name__
        return view

    return decorator


def _service(category: Category) -> dict:
    group = category.parent.parent.name if category.parent and category.parent.parent else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.path,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(filter(None, [category.parent.name if category.parent else "", category.keywords])),
        "group": group,
    }


@open311_view("services", ["GET"])
def services_list(request):
    return [_service(c) for c in selectors.services_list()], 200


URGENCY_ATTRIBUTE = {
    "variable": True,
    "code": "urgency",
    "datatype": "singlevaluelist",
    "required": False,
    "datatype_description": "紧急程度；缺省为该分类的时限类别 urgency; default: the category's",
    "order": 1,
    "description": "紧急程度 urgency",
    "values": [{"key": value, "name": str(label)} for value, label in Urgency.choices],
}


@open311_view("service_definition", ["GET"])
def service_definition(request, code: str):
    category = selectors.services_list().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"没有该服务 no service with code {code}")
    return {"service_code": category.code, "attributes": [URGENCY_ATTRIBUTE]}, 200


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


# Decimals of a position shown to callers who may not read the complaint: 0.001° is about 100 m.
PUBLIC_DECIMALS = 3


def publish_text() -> bool:
    """True when the jurisdiction publishes complaint descriptions and staff notes on Open311 (off by default)."""
    return bool(getattr(settings, "SHAOZI", {}).get("OPEN311_PUBLISH_TEXT", False))


def _reader(request) -> Scope:
    """Who reads: the logged-in user, or the user of a token (Authorization header or `api_key`); anonymous else.

    A token that is given but not valid is refused (401) rather than read as anonymous.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return scope_for(user)
    authentication = ShaoziTokenAuthentication()
    key = str(request.GET.get("api_key") or "").strip()
    try:
        found = authentication.authenticate(request)
        if found is None and key:
            found = authentication.authenticate_credentials(key)
    except AuthenticationFailed as exc:
        raise Open311Error(401, f"API 令牌无效 invalid api_key or token: {exc.detail}") from exc
    return scope_for(found[0] if found else None)


def readable_in_full(scope: Scope, complaints: list[Complaint]) -> set[int]:
    """Ids of the complaints `scope` may read in full: the common read policy, and for an API client (an app
    holding an Open311 api_key) only the requests it submitted itself."""
    if scope.role is None or not complaints:
        return set()
    ids = [c.pk for c in complaints]
    readable = set(Complaint.objects.readable_by(scope).filter(pk__in=ids).values_list("pk", flat=True))
    if scope.role == Role.API_CLIENT:
        submitted = StatusChange.objects.filter(
            complaint_id__in=readable, from_status="", to_status=Status.RECEIVED, by=scope.username
        )
        readable &= set(submitted.values_list("complaint_id", flat=True))
    return readable


def _requests(request, complaints) -> list[dict]:
    """The requests as the caller may see them: in full, or the public view."""
    complaints = list(complaints)
    full = readable_in_full(_reader(request), complaints)
    text = publish_text()
    return [_request(c) if c.pk in full else _public_request(c, text=text) for c in complaints]


def _status_notes(complaint: Complaint) -> str:
    notes = complaint.history.all()
    last = list(notes)[-1] if notes else None
    return f"{Status(complaint.status).label} {complaint.status}" + (f"：{last.note}" if last and last.note else "")


def _public_request(complaint: Complaint, *, text: bool = False) -> dict:
    """A request as anyone may see it: no description, no staff notes, the street instead of the address and a
    rounded position — unless the jurisdiction publishes the text (`text`)."""
    shown = {
        "service_request_id": complaint.external_id,
        "status": "closed" if complaint.status in DONE_STATUSES else "open",
        "service_name": complaint.category.name,
        "service_code": complaint.category.code,
        "requested_datetime": _iso(complaint.received_at),
        "updated_datetime": _iso(updated_at(complaint)),
        "address": f"{complaint.district_name}{complaint.street_name}",
        "lat": round(complaint.location.y, PUBLIC_DECIMALS),
        "long": round(complaint.location.x, PUBLIC_DECIMALS),
    }
    if text:
        shown["media_url"] = complaint.media_url
        shown["status_notes"] = _status_notes(complaint)
        shown["description"] = complaint.description
    return shown


def _request(complaint: Complaint) -> dict:
    return {
        "service_request_id": complaint.external_id,
        "status": "closed" if complaint.status in DONE_STATUSES else "open",
        "status_notes": _status_notes(complaint),
        "service_name": complaint.category.name,
        "service_code": complaint.category.code,
        "description": complaint.description,
        "agency_responsible": complaint.lead_name,
        "service_notice": _notice(complaint),
        "requested_datetime": _iso(complaint.received_at),
        "updated_datetime": _iso(updated_at(complaint)),
        "expected_datetime": _iso(complaint.deadline_at),
        "address": complaint.address,
        "address_id": "",
        "zipcode": "",
        "lat": round(complaint.location.y, 7),
        "long": round(complaint.location.x, 7),
        "media_url": complaint.media_url,
    }


def updated_at(complaint: Complaint) -> dt.datetime:
    """When the request last really changed (`updated_datetime`).

    A bulk-imported row untouched since the import (its `updated_at` is still its `created_at`, both set by the
    import) did not change when it was imported: its last change is the closing or resolving time the file gave,
    else its last status change (the history rows carry the times of the source). Anything else: `updated_at`.
    """
    if complaint.bulk_import_id is None or complaint.updated_at != complaint.created_at:
        return complaint.updated_at
    known = [moment for moment in (complaint.closed_at, complaint.resolved_at) if moment is not None]
    known += [change.at for change in complaint.history.all()]
    return max(known) if known else complaint.received_at


def _notice(complaint: Complaint) -> str:
    if complaint.lead_name:
        deadline = (
            complaint.deadline_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if complaint.deadline_at else ""
        )
        return f"已派 {complaint.lead_name}，办理时限 {deadline} dispatched to {complaint.lead_name}, due {deadline}"
    return "已受理，待派单 received, awaiting dispatch"


def _parse_moment(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    invalid = Open311Error(400, f"{name} 须为 W3C 时间 must be a w3c datetime, e.g. 2025-10-09T08:00:00+08:00")
    try:
        moment = parse_datetime(value.replace(" ", "+")) if "T" in value else None
    except ValueError:  # well-formed but no such day or time: month 99, February 30
        raise invalid from None
    if moment is None:
        raise invalid
    problem = date_problem(moment)
    if problem is not None:
        raise Open311Error(400, f"{name} 超出日期范围 out of range: {problem}")
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=LOCAL_TZ)


# Fields of a JSON request body that must be text (a form only holds text); lat/long may be numbers.
TEXT_FIELDS = (
    "service_code",
    "description",
    "address_string",
    "address_id",
    "media_url",
    "crs",
    "api_key",
    "email",
    "first_name",
    "last_name",
    "phone",
    "device_id",
    "account_id",
)


def _post_data(request) -> dict:
    if request.content_type == "application/json":
        try:
            # Within the input limits: nesting depth, storable text, field length (config/limits.py).
            data = loads(request.body or b"{}")
        except InputError as exc:
            raise Open311Error(exc.status, exc.message) from None
        if not isinstance(data, dict):
            raise Open311Error(400, "请求体须为对象 body must be an object")
        wrong = [name for name in TEXT_FIELDS if data.get(name) is not None and not isinstance(data[name], str)]
        if wrong:
            raise Open311Error(400, f"须为文本 must be strings: {', '.join(wrong)}")
        return data
    return {key: request.POST.get(key) for key in request.POST}


def _attribute(data: dict, code: str) -> str:
    """An Open311 attribute: attribute[code]=… in a form, or {"attribute": {code: …}} in JSON."""
    nested = data.get("attribute")
    value = data.get(f"attribute[{code}]") or (nested.get(code) if isinstance(nested, dict) else "")
    return str(value or "").strip()


def _client(request, data: dict):
    """The user of the API token in the Authorization header or in `api_key`; Open311Error(403) without a valid one
    (GeoReport v2: "403 - api_key was not provided or is invalid")."""
    authentication = ShaoziTokenAuthentication()
    try:
        found = authentication.authenticate(request)
        key = str(data.get("api_key") or "").strip()
        if found is None and key:
            found = authentication.authenticate_credentials(key)
    except AuthenticationFailed as exc:
        raise Open311Error(403, f"API 令牌无效 invalid api_key or token: {exc.detail}") from exc
    if found is None:
        raise Open311Error(403, "需要 API 令牌 an api_key (or Authorization: Token …) is required to post")
    return found[0]


MEDIA_URL_CHARS = 1000


def _media_url(data: dict) -> str:
    """`media_url`: an http(s) URL of at most MEDIA_URL_CHARS, or empty; anything else is a 400."""
    url = str(data.get("media_url") or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise Open311Error(400, "media_url 须为 http(s) 地址 media_url must be an http or https URL") from None
    if len(url) > MEDIA_URL_CHARS:
        raise Open311Error(400, f"media_url 过长 media_url is longer than {MEDIA_URL_CHARS} characters")
    return url


def _place(address_id: str):
    """The gazetteer place whose id is `address_id` (Open311's master-address id), or a 400 saying it is unknown."""
    place = place_list().filter(external_id=address_id).first()
    if place is None:
        raise Open311Error(
            400, f"地名库中没有 address_id {address_id} no gazetteer place with this address_id; give lat/long instead"
        )
    return place


def _create(request):
    data = _post_data(request)
    user = _client(request, data)
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code 必填 service_code is required")
    if not selectors.services_list().filter(code=code).exists():
        raise Open311Error(404, f"没有该服务 no service with code {code}")
    lat, lon = data.get("lat"), data.get("long")
    address = (data.get("address_string") or "").strip()
    address_id = (data.get("address_id") or "").strip()
    placed = {}
    if (lat in (None, "") or lon in (None, "")) and not address:
        if not address_id:
            raise Open311Error(
                400,
                "须提供 lat/long、address_string 或 address_id a location is required: lat & long, address_string "
                "or address_id",
            )
        # Open311's address_id alone: the gazetteer place of that id gives the point (its size the uncertainty).
        place = _place(address_id)
        lat, lon = place.point.y, place.point.x
        address = f"{place.district}{place.street}{place.name}" if place.kind != "district" else place.name
        placed = {"location_source": LocationSource.GEOCODED, "accuracy_m": min(place.size_m, MAX_ACCURACY_M)}
        data = {**data, "crs": "wgs84"}
    media_url = _media_url(data)
    reporter = {
        k: data[k] for k in ("email", "first_name", "last_name", "phone", "device_id", "account_id") if data.get(k)
    }
    intake = services.IntakeData(
        category=code,
        description=data.get("description") or "",
        address=address,
        lon=lon if lat not in (None, "") else None,
        lat=lat if lon not in (None, "") else None,
        crs=data.get("crs") or "wgs84",
        channel=Channel.OPEN311,
        urgency=_attribute(data, "urgency"),
        reporter=reporter,
        **placed,
    )
    try:
        result = _intake(intake=intake, by=user, media_url=media_url)
    except ScopeDenied as exc:
        raise Open311Error(403, exc.message) from exc
    except services.AddressNotFound as exc:
        raise Open311Error(400, exc.message) from exc
    except services.ComplaintError as exc:
        details = "；".join(f"{k}: {v}" for k, v in exc.details.items()) if exc.details else ""
        raise Open311Error(400, exc.message + (f"（{details}）" if details else "")) from exc
    complaint = result.complaint
    return [
        {"service_request_id": complaint.external_id, "service_notice": _notice(complaint), "account_id": None}
    ], 201


@transaction.atomic
def _intake(*, intake: services.IntakeData, by, media_url: str) -> services.IntakeResult:
    """Take the request in and keep its `media_url`, in one transaction (a replayed request keeps its own)."""
    result = services.complaint_intake(data=intake, by=by)
    if media_url and result.created:
        Complaint.objects.filter(pk=result.complaint.pk).update(media_url=media_url)
        result.complaint.media_url = media_url
    return result


def _window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """The searched range: at most DEFAULT_WINDOW (90 days, GeoReport v2); with one end the other is 90 days away,
    with neither the last 90 days. A longer range, or one that ends before it starts, is a 400."""
    days = DEFAULT_WINDOW.days
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - DEFAULT_WINDOW
    if end is None:
        end = start + DEFAULT_WINDOW
    if end < start:
        raise Open311Error(400, "end_date 早于 start_date end_date is before start_date")
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(
            400,
            f"查询范围不得超过 {days} 天 the range may not span more than {days} days (GeoReport v2): "
            f"{_iso(start)} – {_iso(end)}; split it into ranges of {days} days",
        )
    return start, end


def _search(request):
    params = request.GET
    complaints = Complaint.objects.select_related("category").prefetch_related("history")
    ids = [i for i in (params.get("service_request_id") or "").split(",") if i]
    if ids:
        complaints = complaints.filter(external_id__in=ids)
    else:
        codes = [c for c in (params.get("service_code") or "").split(",") if c]
        if codes:
            complaints = complaints.filter(category__code__in=codes)
        start, end = _window(
            _parse_moment(params.get("start_date"), "start_date"), _parse_moment(params.get("end_date"), "end_date")
        )
        complaints = complaints.filter(received_at__gte=start, received_at__lte=end)
        statuses = [s for s in (params.get("status") or "").split(",") if s]
        unknown = set(statuses) - {"open", "closed"}
        if unknown:
            raise Open311Error(400, "status 须为 open 或 closed status must be open or closed")
        if statuses == ["open"]:
            complaints = complaints.exclude(status__in=DONE_STATUSES)
        elif statuses == ["closed"]:
            complaints = complaints.filter(status__in=DONE_STATUSES)
    return _requests(request, complaints.order_by("-received_at", "-id")[:MAX_RESULTS]), 200


@open311_view("requests", ["GET", "POST"])
def requests_view(request):
    if request.method == "POST":
        return _create(request)
    return _search(request)


@open311_view("requests", ["GET"])
def request_detail(request, request_id: str):
    complaint = (
        Complaint.objects.select_related("category").prefetch_related("history").filter(external_id=request_id).first()
    )
    if complaint is None:
        raise Open311Error(404, f"没有该请求 no service request {request_id}")
    return _requests(request, [complaint]), 200


def _discovery(request) -> dict:
    """GeoReport v2 service discovery: where the endpoint is, its formats and whom to contact."""
    endpoint = request.build_absolute_uri("/open311/v2/").rstrip("/")
    return {
        "changeset": DISCOVERY_CHANGESET,
        "contact": "12345 市民服务热线 citizen service hotline",
        "key_service": "api_key：向平台管理员申请 API 令牌 ask the platform administrator for an API token",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": endpoint,
                "changeset": DISCOVERY_CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


# When the endpoint description last changed (GeoReport v2 discovery's `changeset`).
DISCOVERY_CHANGESET = "2026-12-01T00:00:00+08:00"


@open311_view("discovery", ["GET"])
def discovery(request):
    return _discovery(request), 200
