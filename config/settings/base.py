"""Settings shared by every environment. Secrets and the database come from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

# The project-local cluster started by scripts/setup.sh; DATABASE_URL overrides it.
DEFAULT_DATABASE_URL = "postgis://postgres@127.0.0.1:{port}/shaozi".format(
    port=os.environ.get("SHAOZI_PG_PORT", "54329")
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "geo",
    "jurisdictions",
    "complaints",
    "archive",
    "hotspots",
    "assessment",
    "ogc",
    "maps",
]

MIDDLEWARE = [
    # First, so it sees every response: errors under /api/, /open311/, /tiles/, /map/, /ogc/ as JSON (config/errors.py).
    "config.errors.ErrorMiddleware",
    # Deprecated query names still work until their sunset; answers to them say so (config/deprecation.py, docs/api.md).
    "config.deprecation.DeprecationMiddleware",
    # gzip for JSON/GeoJSON/XML/tiles under the API prefixes only (never HTML forms: BREACH), and CORS for anonymous
    # public reads (config/http.py).
    "config.http.CompressionMiddleware",
    "config.http.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from STATIC_ROOT (collectstatic), compressed, before any other work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.ops.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), engine="django.contrib.gis.db.backends.postgis"
    )
}
# Server threads keep their connection for a minute (a new PostgreSQL backend per request costs more than a
# whole in-memory lookup); checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("SHAOZI_CONN_MAX_AGE", "60"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Debian 12 ships GDAL 3.6, which cannot block network access while parsing a spatial reference. Sources are
# read by pyogrio (its own GDAL) and user input never reaches GDAL's SRS parser, so the warning is silenced.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

AUTHENTICATION_BACKENDS = ["jurisdictions.auth.ShaoziModelBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Gzip/Brotli copies next to each file, served by WhiteNoise. Not the manifest (hashed names) storage: the vendored
# leaflet.js names a source map that is not shipped, and the planner map builds its asset URLs without `static`.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "config.api.error_handler",
    # JSON within the input limits (depth, text): SHAOZI["LIMITS"], config/limits.py.
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Token first, so an anonymous request to a protected endpoint gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jurisdictions.auth.ShaoziTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # Rate limits (config/throttling.py): anonymous callers per IP, token and session users per user, plus a
    # view's own scope. Counts are in the default cache: per process unless it is a shared one (docs/security.md).
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonThrottle",
        "config.throttling.UserThrottle",
        "config.throttling.ScopeThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("SHAOZI_RATE_ANON", "600/min"),
        "user": os.environ.get("SHAOZI_RATE_USER", "6000/min"),
        # POST /api/v1/jurisdiction/batch and bulk complaint imports: up to a million rows each.
        "batch": os.environ.get("SHAOZI_RATE_BATCH", "30/min"),
        # Vector tiles (/tiles/): a map view asks for dozens at once.
        "tiles": os.environ.get("SHAOZI_RATE_TILES", "3000/min"),
    },
    # Proxies in front that append to X-Forwarded-For (the client's IP is the one the last of them saw);
    # 0 uses the socket's address. Never leave it unset behind a proxy: a caller could pick its own IP.
    "NUM_PROXIES": int(os.environ.get("SHAOZI_NUM_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shaozi 哨子 API",
    "DESCRIPTION": "城市热线管辖判定与空间问题分析服务 — jurisdiction lookup and spatial issue mapping for a "
    "citizen hotline. Coordinates are WGS-84 unless `crs` says otherwise; GeoJSON follows RFC 7946.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the sidecar package, not a CDN: the service must work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Open311, tiles, /map/* JSON, error answers, export formats and the query vocabulary (config/openapi.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.openapi.postprocess"],
}

SHAOZI = {
    # An XYZ tile URL template for deployments that have a basemap; empty means none (boundaries are the base).
    "BASEMAP_URL": os.environ.get("SHAOZI_BASEMAP_URL", ""),
    "BASEMAP_ATTRIBUTION": os.environ.get("SHAOZI_BASEMAP_ATTRIBUTION", ""),
    # The system the basemap is drawn in: "wgs84" (OpenStreetMap-style) or "gcj02" (Amap, Tencent); with "gcj02"
    # every overlay of the planner map is shifted to GCJ-02 (see docs/maps.md).
    "BASEMAP_CRS": os.environ.get("SHAOZI_BASEMAP_CRS", "wgs84"),
    # Pieces of at most this many vertices are what point lookups test (ST_Subdivide).
    "SUBDIVIDE_MAX_VERTICES": 128,
    # Two areas count as both touching a point when it lies within this distance (metres) of each; a point
    # exactly on a shared edge is covered by both anyway, this catches edges that are not representable.
    "BOUNDARY_TOLERANCE_M": 0.01,
    # A straddling building's other areas become co-handlers (协办) from this share of its footprint up.
    "CO_HANDLER_MIN_SHARE": 0.05,
    # With an accuracy circle, a lead holding less than this fraction of the circle needs human review.
    "REVIEW_MIN_FRACTION": 0.8,
    # Demo accounts (documented passwords) may log in; production settings turn this off.
    "ALLOW_DEMO_USERS": True,
    # Other processes see a gazetteer reload after at most this long (the geocoder's in-process index).
    "GEOCODER_CACHE_SECONDS": 300,
    # Single lookups: "memory" (jurisdictions.engine, the database only when memory cannot be exact) or "database"
    # (every lookup through the database engine; for comparison and as a fallback).
    "LOOKUP_ENGINE": os.environ.get("SHAOZI_LOOKUP_ENGINE", "memory"),
    # A web request's SQL statement is cancelled after this long (0: never); management commands have no limit.
    "STATEMENT_TIMEOUT_MS": int(os.environ.get("SHAOZI_STATEMENT_TIMEOUT_MS", "15000")),
    # Repeat complaints (重复诉求): same category within this radius (metres) and this many days back.
    "REPEAT_RADIUS_M": 250.0,
    "REPEAT_WINDOW_DAYS": 30,
    # Opens a boundary dispute for a return (退单) the reviewer sends to dispute.
    "RETURN_DISPUTE_OPENER": "complaints.hooks.open_return_dispute",
    # Input limits: each breach gets its own 4xx and error code (docs/security.md, "Limits and error responses").
    "LIMITS": {
        # A JSON or form body (also Django's DATA_UPLOAD_MAX_MEMORY_SIZE) → 413 body_too_large.
        "BODY_BYTES": 2_621_440,
        # Path and query string; below gunicorn's default request-line limit (4094) → 414 uri_too_long.
        "URL_CHARS": 4000,
        # Nesting of JSON arrays and objects → 400 json_too_deep.
        "JSON_DEPTH": 32,
        # One text value: a JSON string, a form or query value, a CSV field → 400 field_too_long.
        "FIELD_CHARS": 131_072,
        # A complaint's description (native API, Open311, bulk rows) → 400 field_too_long.
        "DESCRIPTION_CHARS": 4000,
        # Dates and times given as input (received_at, list filters, Open311 dates) → 400 date_out_of_range.
        "DATE_MIN": "2000-01-01",
        "DATE_MAX": "2100-12-31",
        # POST /api/v1/jurisdiction/batch with a token or login, and anonymous → 413 body_too_large / too_many_rows.
        "BATCH_BYTES": 256 * 1024 * 1024,
        "BATCH_ROWS": 1_000_000,
        "BATCH_ANONYMOUS_BYTES": 5 * 1024 * 1024,
        "BATCH_ANONYMOUS_ROWS": 100_000,
        # A bulk complaint file uploaded to POST /api/v1/complaint-imports → 413 body_too_large.
        "UPLOAD_BYTES": 1024 * 1024 * 1024,
        # batch_size of a bulk import (rows per transaction) → 400 invalid_batch_size.
        "IMPORT_BATCH_ROWS": 100_000,
        # errors_limit of GET /api/v1/complaint-imports/{id} → 400 invalid_errors_limit.
        "ERRORS_LIMIT": 100_000,
        # Rows of one full-layer export (`?format=gpkg|fgb|csv|geojson` on a list, config/export.py) → 413
        # too_many_rows; the whole file is built in memory as Arrow columns before it is written.
        "EXPORT_ROWS": int(os.environ.get("SHAOZI_EXPORT_ROWS", "1000000")),
    },
    # A running bulk import whose process has not reported for this long (or is gone) is marked failed.
    "BULK_IMPORT_STALE_SECONDS": 120,
    # 三率考核 composite score weights: 响应率, 解决率, 满意率 (docs/assessment.md).
    "ASSESSMENT_WEIGHTS": {"response": 10, "resolution": 45, "satisfaction": 45},
}

# Django's own cap on a form body read into memory (uploaded files do not count); JSON bodies are capped by
# config.api.JSONParser and the error middleware with the same limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = SHAOZI["LIMITS"]["BODY_BYTES"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
