"""A developer's or demo machine: a fixed non-secret key; debug pages only with DJANGO_DEBUG=1 (`make dev`).

`make run` serves the demo as production would (gunicorn, WhiteNoise, no debug pages); the production settings
(config/settings/production.py) add what a public deployment needs: secrets from the environment, TLS, no demo
accounts.
"""

import os

from .base import *  # noqa: F403

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
SECRET_KEY = SECRET_KEY or "shaozi-local-development-key-not-for-production"  # noqa: F405
