"""Production: every secret must come from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False
if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured("DATABASE_URL must be set in production")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Demo accounts have published passwords: never let them in.
SHAOZI = {**SHAOZI, "ALLOW_DEMO_USERS": False}  # noqa: F405

# ---- behind a TLS proxy (README "Serving in production") ----------------------------------------------------------
# The proxy terminates TLS and says so in X-Forwarded-Proto; it must overwrite a header a client sent itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain-HTTP requests are redirected to HTTPS here; turn it off (SHAOZI_SSL_REDIRECT=0) where the proxy redirects.
SECURE_SSL_REDIRECT = os.environ.get("SHAOZI_SSL_REDIRECT", "1") != "0"
# The load balancer's health check may speak plain HTTP to the service.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS: browsers use HTTPS only, for a year by default. Subdomains are not included unless asked for
# (SHAOZI_HSTS_INCLUDE_SUBDOMAINS=1): the service usually lives on a subdomain of a government domain whose
# other hosts it does not control, and a header sent from here would force HTTPS on all of them for a year.
# Preloading (SHAOZI_HSTS_PRELOAD=1) needs subdomains included and a submission to the browsers' list.
SECURE_HSTS_SECONDS = int(os.environ.get("SHAOZI_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("SHAOZI_HSTS_INCLUDE_SUBDOMAINS", "0") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("SHAOZI_HSTS_PRELOAD", "0") == "1"
# The deploy checks that would only repeat the choices above.
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F405
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    *([] if SECURE_SSL_REDIRECT else ["security.W008"]),
]

# The client IP for rate limits is the one the proxy appends to X-Forwarded-For (one proxy by default).
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": int(os.environ.get("SHAOZI_NUM_PROXIES", "1"))}  # noqa: F405

# Connections are kept for a minute (base settings); give up on an unreachable database quickly so /healthz
# answers 503 instead of hanging.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)  # noqa: F405

# `check --deploy` is about the deployment; drf-spectacular would add its schema warnings (naming, a type hint),
# which belong to development, where `manage.py spectacular --validate` shows them.
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "ENABLE_DJANGO_DEPLOY_CHECK": False}  # noqa: F405
