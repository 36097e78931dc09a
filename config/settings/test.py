"""Test run: real PostGIS (the project cluster or DATABASE_URL), fast password hashing."""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "shaozi-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Several test runs can share one server when each names its own test database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SHAOZI_TEST_DB", "test_shaozi")}  # noqa: F405

# No rate limits unless a test sets some (tests/test_ops.py): None turns a scope off (no cache round trips).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {scope: None for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},  # noqa: F405
}

# Tests run without collectstatic: WhiteNoise finds static files as in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests open and close their own connections (live servers, subprocesses); none is kept between requests.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
