"""One error path: every 4xx and 5xx under /api/, /open311/, /tiles/, /map/ and /ogc/ is JSON; HTML pages elsewhere
stay HTML.

The API's shape is `{"error": {"code", "message", "details"}}`; Open311 keeps its own list
`[{"code": <status>, "description": ...}]` (XML for a `.xml` path). `ErrorMiddleware` comes first in MIDDLEWARE, so
it sees every response: it refuses a request past the limits before any view runs (414 long URL, 413 large body,
400 text PostgreSQL cannot store, 404 an id past the database's integers) and rewrites any error response that is
not already in the shape — Django's 404 for an unknown URL, a plain 405, a CSRF 403, the 500 page (Django has
logged the traceback by then; the body names none of it). `bad_request` (handler400) answers Django's own checks:
a form body past DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, a bad Host header a 400.
"""

from __future__ import annotations

from xml.etree import ElementTree

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults

from config.limits import InputError, check_text, limit

API_PREFIXES = ("/api/", "/open311/", "/tiles/", "/map/", "/ogc/")
OPEN311_PREFIX = "/open311/"
# PostgreSQL's bigint: a larger id in a URL cannot name a row (and would fail the query with a 500).
MAX_ID = 2**63 - 1

# The code and message of an error response made here, by status.
DEFAULTS = {
    400: ("bad_request", "请求无效 bad request"),
    401: ("not_authenticated", "需要登录或 API 令牌 authentication required"),
    403: ("permission_denied", "无权访问 permission denied"),
    404: ("not_found", "没有这个资源 no such resource"),
    405: ("method_not_allowed", "不支持该请求方法 method not allowed"),
    406: ("not_acceptable", "无法提供所要求的格式 cannot answer in the requested format"),
    413: ("body_too_large", "请求体过大 request body too large"),
    414: ("uri_too_long", "请求地址过长 request URL too long"),
    415: ("unsupported_media_type", "不支持的请求体类型 unsupported media type"),
    429: ("throttled", "请求过于频繁 too many requests"),
    500: ("server_error", "服务器内部错误 internal server error"),
    503: ("service_unavailable", "服务暂不可用 service unavailable"),
}
# Headers an error response keeps when its body is rewritten.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_api(request: HttpRequest) -> bool:
    """Whether errors for this request are JSON (the API, Open311, tiles, map data) rather than HTML pages."""
    return request.path_info.startswith(API_PREFIXES)


def error_response(
    request: HttpRequest, status: int, code: str | None = None, message: str | None = None, details: dict | None = None
) -> HttpResponse:
    """An error in the shape the request's path speaks: the API's, or Open311's list (JSON or XML)."""
    default_code, default_message = DEFAULTS.get(
        status, ("error" if status < 500 else "server_error", f"HTTP {status}")
    )
    code, message = code or default_code, message or default_message
    if request.path_info.startswith(OPEN311_PREFIX):
        if request.path_info.lower().endswith(".xml"):
            root = ElementTree.Element("errors")
            error = ElementTree.SubElement(root, "error")
            ElementTree.SubElement(error, "code").text = str(status)
            ElementTree.SubElement(error, "description").text = message
            body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="utf-8")
            return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
        payload = [{"code": status, "description": message}]
    else:
        payload = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(payload, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def input_error_response(request: HttpRequest, exc: InputError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.details)


def _in_shape(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether an error response already speaks JSON (or Open311's XML)."""
    if getattr(response, "streaming", False):
        return True
    content_type = (response.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return True
    return content_type == "text/xml" and request.path_info.startswith(OPEN311_PREFIX)


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _check_values(query) -> None:
    """Every key and value of a QueryDict must be storable text within FIELD_CHARS (InputError if not)."""
    for key, values in query.lists():
        check_text(key, "parameter")
        for value in values:
            if isinstance(value, str):
                check_text(value, key)


def body_limit(view_func) -> int:
    """The body size a view takes: its `body_limit` (a SHAOZI["LIMITS"] name) or BODY_BYTES."""
    owner = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None) or view_func
    return limit(getattr(owner, "body_limit", None) or getattr(view_func, "body_limit", None) or "BODY_BYTES")


class ErrorMiddleware:
    """Limits checked before any view runs, and every error response under API_PREFIXES in the error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return self.get_response(request)
        refused = self._check_request(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400 and not _in_shape(request, response):
            rewritten = error_response(request, response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    rewritten[header] = response[header]
            response = rewritten
        return response

    def _check_request(self, request: HttpRequest) -> HttpResponse | None:
        max_chars = limit("URL_CHARS")
        if len(request.get_full_path()) > max_chars:
            return error_response(
                request,
                414,
                "uri_too_long",
                f"请求地址过长 URL longer than {max_chars} characters",
                {"max_chars": max_chars},
            )
        try:
            _check_values(request.GET)
        except InputError as exc:
            return input_error_response(request, exc)
        except (SuspiciousOperation, BadRequest):  # too many fields
            return error_response(request, 400, "bad_request", "查询参数无效 invalid query string")
        return None

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not is_api(request):
            return None
        for name, value in view_kwargs.items():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                return error_response(request, 404, "not_found", f"没有编号为 {value} 的对象 no such id", {name: value})
            if isinstance(value, str):  # a code or id in the path: %00 decodes to a NUL
                try:
                    check_text(value, name)
                except InputError as exc:
                    return input_error_response(request, exc)
        max_bytes = body_limit(view_func)
        if _content_length(request) > max_bytes:
            return error_response(
                request,
                413,
                "body_too_large",
                f"请求体过大 body larger than {max_bytes:,} bytes",
                {"max_bytes": max_bytes},
            )
        content_type = (request.content_type or "").lower()
        if request.method in ("POST", "PUT", "PATCH") and content_type in FORM_TYPES:
            # Form values reach the database as they are: a NUL byte (%00) must stop here, as in JSON.
            try:
                _check_values(request.POST)
            except InputError as exc:
                return input_error_response(request, exc)
            except RequestDataTooBig:
                return error_response(request, 413)
            except (SuspiciousOperation, BadRequest, MultiPartParserError) as exc:
                return error_response(request, 400, "invalid_form", f"表单无效 invalid form body: {exc}")
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_api(request) and isinstance(exception, InputError):
            return input_error_response(request, exception)
        return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django's own checks (a body past DATA_UPLOAD_MAX_MEMORY_SIZE is 413, a bad Host header 400)."""
    too_big = isinstance(exception, RequestDataTooBig)
    if not is_api(request):
        if too_big:
            return HttpResponse("413 请求体过大 Request body too large", status=413, content_type="text/plain")
        return defaults.bad_request(request, exception)
    if too_big:
        return error_response(request, 413)
    return error_response(request, 400)
