"""Rate limits: per IP for anonymous callers, per user (token or session) for authenticated ones.

Rates are `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (scopes `anon`, `user`, `batch`, `tiles`), read on every
request so a deployment or a test can change them. Counts live in Django's default cache: the per-process
LocMem cache gives each gunicorn worker its own counts (a caller may get up to workers × the rate); a shared
cache (Redis, memcached) makes the limits exact across processes and machines. A rate of None turns a scope off.

DRF views get `anon` and `user` (DEFAULT_THROTTLE_CLASSES) and, when they set `throttle_scope`, that scope too.
Plain Django views (tiles, Open311) use `throttle_wait` or the `throttled` decorator with the same classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, JsonResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle

THROTTLED_MESSAGE = "请求过于频繁，请稍后再试 too many requests; retry after {wait} s"


class _LiveRates:
    """Read the rates from the current settings, not from a copy taken when DRF was imported."""

    @property
    def THROTTLE_RATES(self) -> dict:  # DRF reads this name
        return api_settings.DEFAULT_THROTTLE_RATES


class AnonThrottle(_LiveRates, AnonRateThrottle):
    """Anonymous callers, per client IP (`anon`)."""


class UserThrottle(_LiveRates, UserRateThrottle):
    """Authenticated callers, per user — a token's user or a session's (`user`); anonymous ones per IP."""


class ScopeThrottle(_LiveRates, ScopedRateThrottle):
    """The view's own `throttle_scope` (e.g. `batch`), per user or per IP; nothing for views without one."""


class _FixedScope(_LiveRates, SimpleRateThrottle):
    """One named scope for a plain Django view, per user or per IP."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def get_cache_key(self, request, view):
        user = request.user
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


@dataclass
class _Caller:
    """What DRF's throttles read from a request: the user, the client address and X-Forwarded-For."""

    user: object
    META: dict
    headers: object


def throttle_wait(request: HttpRequest, *, user=None, scope: str | None = None) -> float | None:
    """Seconds the caller must wait (the request is over a limit), or None (counted, allowed).

    `user` is the caller when the view authenticated it itself (an API token); otherwise the session's user.
    Without `scope` the `anon` and `user` limits apply, as for DRF views; with one, that scope's limit alone.
    """
    who = user if user is not None else getattr(request, "user", None)
    caller = _Caller(user=who, META=request.META, headers=request.headers)
    throttles = [_FixedScope(scope)] if scope else [AnonThrottle(), UserThrottle()]
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(caller, None)]
    if not waits:
        return None
    return max((w for w in waits if w is not None), default=1.0)


def retry_after(wait: float) -> str:
    """The Retry-After header's value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))


def throttled(scope: str | None = None):
    """Limit a plain Django view like a DRF one; over the limit it answers 429 with the API's error shape and
    Retry-After."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            wait = throttle_wait(request, scope=scope)
            if wait is None:
                return view(request, *args, **kwargs)
            seconds = retry_after(wait)
            body = {
                "error": {
                    "code": "throttled",
                    "message": THROTTLED_MESSAGE.format(wait=seconds),
                    "details": {"retry_after": int(seconds)},
                }
            }
            response = JsonResponse(body, status=429, json_dumps_params={"ensure_ascii": False})
            response["Retry-After"] = seconds
            return response

        return wrapped

    return decorator
