"""Developer machine: debug on, a fixed non-secret key."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = SECRET_KEY or "shaozi-local-development-key-not-for-production"  # noqa: F405
