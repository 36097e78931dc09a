"""Operations: /healthz, the request log, Beijing's "today", rate limits, the statement timeout, deploy checks."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import string
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import DataError, OperationalError, connection, transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token

from config.ops import is_statement_timeout, set_statement_timeout
from jurisdictions.engine import engine_version
from jurisdictions.models import Generation
from jurisdictions.services import FieldMap, boundaries_import

from .conftest import square, write_geojson

BASE_DIR = settings.BASE_DIR
LOOKUP = "/api/v1/jurisdiction?lon=116.3975&lat=39.9087&crs=gcj02"


# ---- /healthz ------------------------------------------------------------------------------------------------------


def test_healthz_answers_ok_with_the_generation_in_force(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["generation"] == Generation.objects.in_force().name
    assert body["engine_version"] == engine_version()
    assert "no-store" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_does_not_answer(client, db):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error", "generation": None, "engine_version": None}


# ---- request log ---------------------------------------------------------------------------------------------------


def test_every_request_is_logged_with_status_duration_and_user(client, db, caplog):
    user = User.objects.create_user("ops-log-client")
    token = Token.objects.create(user=user)
    with caplog.at_level(logging.INFO, logger="shaozi.requests"):
        client.get(LOOKUP)
        client.get("/api/v1/areas/999999", HTTP_AUTHORIZATION=f"Token {token.key}")
    anonymous, authenticated = [r for r in caplog.records if r.name == "shaozi.requests"]
    assert (anonymous.method, anonymous.path, anonymous.status, anonymous.user) == (
        "GET",
        "/api/v1/jurisdiction",
        200,
        "anonymous",
    )
    assert isinstance(anonymous.duration_ms, float) and anonymous.duration_ms > 0
    assert (authenticated.status, authenticated.user) == (404, f"user:{user.pk}")
    assert anonymous.getMessage().startswith("GET /api/v1/jurisdiction 200 ")


# ---- "today" is Beijing's day --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "in_force"),
    [
        # 20:00 UTC on 1 January is 04:00 on 2 January in Beijing: the generation starting on the 2nd decides.
        (dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC), True),
        # 15:00 UTC is 23:00 on 1 January in Beijing: not yet.
        (dt.datetime(2026, 1, 1, 15, 0, tzinfo=dt.UTC), False),
    ],
)
def test_lookup_without_a_date_uses_beijings_today(client, db, tmp_path, instant, in_force):
    source = write_geojson(tmp_path / "d.geojson", [({"code": "900009", "name": "北京日期测试区"}, square(0, 0))])
    boundaries_import(
        source=source,
        level="district",
        generation="test-beijing-day",
        valid_from=dt.date(2026, 1, 2),
        fields=FieldMap(),
        commit=True,
        activate=True,
    )
    with mock.patch("django.utils.timezone.now", return_value=instant):
        body = client.get("/api/v1/jurisdiction?lon=0.5&lat=0.5").json()
    if in_force:
        assert body["generation"]["name"] == "test-beijing-day"
        assert body["district"]["code"] == "900009"
    else:
        assert body["generation"]["name"] != "test-beijing-day"
        assert body["district"] is None


# ---- rate limits ---------------------------------------------------------------------------------------------------


def _rates(**rates):
    """Settings with these rates (scope → "n/period"); every other scope unlimited."""
    unlimited = {scope: None for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**unlimited, **rates}}
    )


@pytest.fixture
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_anonymous_callers_get_429_in_the_error_shape(client, db, fresh_counts):
    with _rates(anon="2/min"):
        assert [client.get(LOOKUP).status_code for _ in range(2)] == [200, 200]
        response = client.get(LOOKUP)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert 1 <= int(response["Retry-After"]) <= 60


def test_anonymous_limit_is_per_ip(client, db, fresh_counts):
    with _rates(anon="1/min"):
        assert client.get(LOOKUP, REMOTE_ADDR="10.0.0.1").status_code == 200
        assert client.get(LOOKUP, REMOTE_ADDR="10.0.0.1").status_code == 429
        assert client.get(LOOKUP, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_token_callers_are_limited_per_user_not_by_the_anonymous_rate(client, db, fresh_counts):
    user = User.objects.create_user("ops-rate-client")
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    with _rates(anon="1/min", user="3/min"):
        assert [client.get(LOOKUP, **auth).status_code for _ in range(3)] == [200, 200, 200]
        assert client.get(LOOKUP, **auth).status_code == 429
        assert client.get(LOOKUP).status_code == 200  # the anonymous count of this IP is its own


def test_batch_scope_is_stricter(client, db, fresh_counts):
    def post():
        return client.generic("POST", "/api/v1/jurisdiction/batch", b"lon,lat\n116.3975,39.9087\n", "text/csv")

    with _rates(anon="100/min", batch="1/min"):
        first = post()
        assert first.status_code == 200
        b"".join(first.streaming_content)
        second = post(), client.get(LOOKUP)
    assert second[0].status_code == 429
    assert second[0].json()["error"]["code"] == "throttled"
    assert "Retry-After" in second[0]
    assert second[1].status_code == 200  # other endpoints keep the anonymous rate


def test_tiles_are_limited_with_the_error_shape(client, db, fresh_counts):
    url = "/tiles/areas/12/3371/1552.pbf?level=street"
    with _rates(tiles="1/min"):
        assert client.get(url).status_code == 200
        response = client.get(url)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_open311_is_limited_with_its_own_error_shape(client, db, fresh_counts):
    with _rates(anon="1/min"):
        assert client.get("/open311/v2/services.json").status_code == 200
        response = client.get("/open311/v2/services.json")
    assert response.status_code == 429
    assert response.json() == [{"code": 429, "description": mock.ANY}]
    assert int(response["Retry-After"]) >= 1


# ---- statement timeout ---------------------------------------------------------------------------------------------


def test_statement_timeout_cancels_a_long_query_distinguishably(db, settings):
    settings.SHAOZI = {**settings.SHAOZI, "STATEMENT_TIMEOUT_MS": 50}
    set_statement_timeout(sender=None, connection=connection)
    try:
        with pytest.raises(OperationalError) as cancelled, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(2)")
        with pytest.raises(DataError) as other, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert is_statement_timeout(cancelled.value)
    assert not is_statement_timeout(other.value)


def test_only_web_processes_get_the_statement_timeout():
    # A process that only sets Django up (every management command) has no limit; importing the WSGI entry
    # point (gunicorn, runserver) sets it on the connections made afterwards.
    code = (
        "import django\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "def show():\n"
        "    with connection.cursor() as cursor:\n"
        "        cursor.execute('SHOW statement_timeout')\n"
        "        return cursor.fetchone()[0]\n"
        "before = show()\n"
        "connection.close()\n"
        "import config.wsgi\n"
        "print(before, show())\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "SHAOZI_STATEMENT_TIMEOUT_MS": "1234"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "1234ms"]


# ---- production settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [{}, {"SHAOZI_SSL_REDIRECT": "0", "SHAOZI_HSTS_INCLUDE_SUBDOMAINS": "1"}],
    ids=["defaults", "proxy-redirects"],
)
def test_production_settings_pass_the_deploy_checks(extra):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        **os.environ,
        **extra,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "DATABASE_URL": os.environ.get("DATABASE_URL", settings.DEFAULT_DATABASE_URL),
        "DJANGO_ALLOWED_HOSTS": "shaozi.example.gov.cn",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stderr
