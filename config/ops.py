"""Operations: the request log, the health check for load balancers, the statement timeout of web processes."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

request_log = logging.getLogger("shaozi.requests")

# PostgreSQL's SQLSTATE for "canceling statement due to statement timeout" (query_canceled).
QUERY_CANCELED = "57014"


class RequestLogMiddleware:
    """One INFO line per request on `shaozi.requests`: method, path, status, duration (ms), user id or anonymous.

    The path is logged without its query string (it may carry an address or a phone number).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        user = getattr(request, "user", None)
        who = f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
        request_log.info(
            "%s %s %s %.1fms %s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            who,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration_ms, 1),
                "user": who,
            },
        )
        return response


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """健康检查 GET /healthz — 200 when the database answers, 503 otherwise; no login, never cached.

    `generation` is the boundary generation in force today (Beijing time); `engine_version` the number that moves
    on every change to what the jurisdiction engine reads (`jurisdictions.engine`), so instances serving
    different data are easy to tell apart. Two small indexed reads.
    """
    from jurisdictions.engine import engine_version
    from jurisdictions.models import Generation

    try:
        generation = Generation.objects.in_force(timezone.localdate())
        version = engine_version()
    except DatabaseError:
        logging.getLogger("shaozi.health").exception("health check: the database does not answer")
        body = {"status": "unavailable", "database": "error", "generation": None, "engine_version": None}
        return JsonResponse(body, status=503)
    body = {
        "status": "ok",
        "database": "ok",
        "generation": generation.name if generation else None,
        "engine_version": version,
    }
    return JsonResponse(body)


def statement_timeout_ms() -> int:
    """Milliseconds a web request's SQL statement may run (SHAOZI["STATEMENT_TIMEOUT_MS"]); 0 means no limit."""
    return int(settings.SHAOZI.get("STATEMENT_TIMEOUT_MS", 0) or 0)


def set_statement_timeout(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: limit every statement of the new connection to `statement_timeout_ms()`."""
    timeout = statement_timeout_ms()
    if timeout > 0 and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [timeout])


def web_statement_timeout() -> None:
    """Limit the statements of this process's database connections (called by the WSGI entry point only, so
    management commands — imports, migrations, hot-spot runs — are never cut off)."""
    connection_created.connect(set_statement_timeout, dispatch_uid="shaozi-statement-timeout")


def is_statement_timeout(exc: BaseException) -> bool:
    """True when `exc` is a query PostgreSQL cancelled (the statement timeout; Django raises OperationalError
    whose cause is psycopg2's QueryCanceled, SQLSTATE 57014)."""
    for error in (exc, exc.__cause__):
        if error is not None and getattr(error, "pgcode", None) == QUERY_CANCELED:
            return True
    return False
