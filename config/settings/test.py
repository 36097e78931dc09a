"""Test run: real PostGIS (the project cluster or DATABASE_URL), fast password hashing."""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "shaozi-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Several test runs can share one server when each names its own test database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SHAOZI_TEST_DB", "test_shaozi")}  # noqa: F405
