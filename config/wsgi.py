"""WSGI entry point (gunicorn: `gunicorn -c config/gunicorn.py`; see README "Serving in production")."""

import os

from django.core.wsgi import get_wsgi_application

from config.ops import web_statement_timeout

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
# Only web processes get the statement timeout; management commands never import this module.
web_statement_timeout()
