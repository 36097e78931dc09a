"""Test run: real PostGIS (the project cluster or DATABASE_URL), fast password hashing."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "shaozi-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
