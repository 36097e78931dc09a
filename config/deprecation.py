"""Deprecated query names (config/params.py, docs/api.md): recorded per request, announced on the response.

Kept apart from the parsers so that the middleware loads without Django REST framework.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime

# When the old names were deprecated (RFC 9745 `Deprecation: @<seconds>`) and when they stop working (RFC 8594).
DEPRECATED_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SUNSET = dt.datetime(2027, 6, 30, 16, 0, tzinfo=dt.UTC)  # 2027-07-01 00:00 Beijing time
# Where the vocabulary and its deprecated names are written down: the API reference served with the schema.
DEPRECATION_DOC = "/api/redoc/#section/Query-vocabulary"


@dataclass
class Used:
    """The deprecated names one request used (kept on the Django request for the middleware)."""

    names: dict[str, str] = field(default_factory=dict)


def _django_request(request):
    return getattr(request, "_request", request)


def mark_deprecated(request, old: str, new: str) -> None:
    """Record that `request` used the deprecated `old` for `new` (the response will say so)."""
    django_request = _django_request(request)
    used = getattr(django_request, "deprecated_params", None)
    if used is None:
        used = django_request.deprecated_params = Used()
    used.names[old] = new


class DeprecationMiddleware:
    """A response to a request that used a deprecated name carries `Deprecation: @<seconds>` (RFC 9745), `Sunset`
    (RFC 8594) and `Link: <…>; rel="deprecation"; title="old → new"` beside any paging links."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        used = getattr(request, "deprecated_params", None)
        if used is None or not used.names:
            return response
        response["Deprecation"] = f"@{int(DEPRECATED_AT.timestamp())}"
        response["Sunset"] = format_datetime(SUNSET, usegmt=True)
        title = "; ".join(f"{old} -> {new}" for old, new in used.names.items())
        link = f'<{DEPRECATION_DOC}>; rel="deprecation"; type="text/html"; title="{_quoted(title)}"'
        response["Link"] = f"{response['Link']}, {link}" if response.has_header("Link") else link
        return response


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
