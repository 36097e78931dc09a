"""HTTP for other systems: compression of the machine-readable answers and CORS for the anonymous public reads.

`CompressionMiddleware` gzips JSON, GeoJSON, XML and vector tiles under the API prefixes, never an HTML page:
pages with a form carry a CSRF token, and compressing a secret next to text an attacker can reflect is what
BREACH exploits. API answers carry no CSRF token, and per-user ones are never mixed with attacker-chosen text.

`CorsMiddleware` lets a browser app of another origin read what any anonymous caller may read: a GET or HEAD under
/api/, /ogc/, /open311/ or /tiles/ made without credentials (no session, no `Authorization`, no `api_key`) whose
answer is not private gets `Access-Control-Allow-Origin: *`. Credentials are never allowed across origins, so a
per-user answer (`Cache-Control: private`, varying on `Cookie, Authorization`) gets no CORS header at all.
A preflight (OPTIONS with `Access-Control-Request-Method: GET`) is answered here with 204.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware

CORS_PREFIXES = ("/api/", "/ogc", "/open311/", "/tiles/")
COMPRESSED_PREFIXES = ("/api/", "/ogc", "/open311/", "/tiles/", "/map/")
COMPRESSED_TYPES = (
    "application/json",
    "application/geo+json",
    "application/vnd.oai.openapi+json",
    "application/vnd.mapbox-vector-tile",
    "application/x-protobuf",
    "text/xml",
    "application/xml",
)
# Request headers a cross-origin reader may send (besides the CORS-safelisted ones): revalidation and format.
CORS_REQUEST_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since"
# Response headers such a reader may see: paging links, validators, the CRS of OGC items, the error's retry time,
# an export's row count and file name.
CORS_EXPOSED_HEADERS = (
    "Link, ETag, Last-Modified, Content-Crs, Retry-After, X-Total-Count, Content-Disposition, Deprecation, Sunset"
)
CORS_MAX_AGE = "86400"


def _media_type(response: HttpResponse) -> str:
    return (response.get("Content-Type") or "").split(";")[0].strip().lower()


class CompressionMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for machine-readable answers under the API prefixes only (no HTML, see above).

    It weakens a strong ETag it compresses (`W/"…"`): the views compare If-None-Match weakly, as RFC 9110 asks."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path_info.startswith(COMPRESSED_PREFIXES):
            return response
        if _media_type(response) not in COMPRESSED_TYPES:
            return response
        if getattr(response, "streaming", False):
            # Streamed answers (the jurisdiction batch) are flushed as they are made; gzip would hold them back.
            return response
        return super().process_response(request, response)


def anonymous(request: HttpRequest) -> bool:
    """A request without credentials: no logged-in session, no `Authorization` header, no Open311 `api_key`."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return False
    return not request.headers.get("Authorization") and "api_key" not in request.GET


def private(response: HttpResponse) -> bool:
    """An answer meant for one caller (`Cache-Control: private` or `no-store`)."""
    cache_control = (response.get("Cache-Control") or "").lower()
    return "private" in cache_control or "no-store" in cache_control


class CorsMiddleware:
    """`Access-Control-Allow-Origin: *` on anonymous public reads, and 204 for their preflight (see module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(CORS_PREFIXES):
            return self.get_response(request)
        if self._preflight(request):
            response = HttpResponse(status=204)
            del response["Content-Type"]
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
            response["Access-Control-Max-Age"] = CORS_MAX_AGE
            return response
        response = self.get_response(request)
        if request.method in ("GET", "HEAD"):
            if anonymous(request) and not private(response):
                response["Access-Control-Allow-Origin"] = "*"
                response["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
            elif "Access-Control-Allow-Origin" in response and private(response):
                del response["Access-Control-Allow-Origin"]
        return response

    @staticmethod
    def _preflight(request: HttpRequest) -> bool:
        """A CORS preflight for a read: OPTIONS from another origin asking to GET or HEAD, with no credentials."""
        return (
            request.method == "OPTIONS"
            and "Origin" in request.headers
            and request.headers.get("Access-Control-Request-Method", "").upper() in ("GET", "HEAD")
        )
