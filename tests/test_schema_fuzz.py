"""Schema-driven fuzzing of the whole API (schemathesis over /api/schema/) as every kind of caller.

Every operation in the OpenAPI document is called with generated requests — valid and invalid — as an anonymous
caller, the hotline's API client and each staff role: the native API, Open311, the vector tiles and their TileJSON,
the planner map's JSON. No request may reach a server error, every error is the project's JSON shape (Open311's
own `[{code, description}]` list under /open311/), and every successful response must match its schema
(`response_schema_conformance`). The CI-sized run makes about 1,700 cases (60 operations × 7 callers ×
`SHAOZI_FUZZ_EXAMPLES`, default 4); raise
the variable for a longer run, e.g. `SHAOZI_FUZZ_EXAMPLES=100 make test PYTEST_ARGS=tests/test_schema_fuzz.py`.
"""

import os

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import response_schema_conformance

from jurisdictions.demo import demo_users_create

EXAMPLES = int(os.environ.get("SHAOZI_FUZZ_EXAMPLES", "4"))
CASES = {"count": 0}

# The document is read once, in process (no database needed); requests go to the same WSGI application.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


@pytest.fixture(autouse=True)
def keep_test_connection(db):
    """As Django's test client does: keep the test's connection (and its transaction) open across requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    demo_users_create()
    return {u.username: Token.objects.get_or_create(user=u)[0].key for u in User.objects.filter(staff__demo=True)}


def is_json_error(response, path: str = "") -> bool:
    """Every error the API sends has the project's shape; Open311 answers its own GeoReport v2 list."""
    try:
        body = response.json()
    except ValueError:
        return False
    if path.startswith("/open311/"):
        return isinstance(body, list) and all({"code", "description"} <= set(item) for item in body)
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"code", "message", "details"} <= set(error)


def is_download(response) -> bool:
    """A file answer (Content-Disposition: attachment); schemathesis keeps each header as a list of values."""
    value = response.headers.get("Content-Disposition") or response.headers.get("content-disposition") or ""
    return "attachment" in (" ".join(value) if isinstance(value, list) else value)


def fuzz_as(caller: str):
    """The fuzz test for one caller (schemathesis makes one test per operation)."""

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def test(case, tokens):
        # The in-process transport asks for gzip like a browser but does not decode it: ask for plain bodies.
        headers = {"Accept-Encoding": "identity"}
        if caller != "anonymous":
            headers["Authorization"] = f"Token {tokens[caller]}"
        response = case.call(headers=headers)
        CASES["count"] += 1
        where = (caller, case.method, case.formatted_path, response.status_code)
        assert response.status_code < 500, (*where, response.text[:500])
        if response.status_code >= 400:
            assert is_json_error(response, case.operation.path), (*where, response.text[:300])
        elif not is_download(response):
            # A successful answer has the shape the OpenAPI document gives it; a file download (`?format=` of a
            # full-layer export: GeoPackage, FlatGeobuf, CSV, a whole GeoJSON layer) is a file, not a page.
            case.validate_response(response, checks=[response_schema_conformance])

    return test


test_fuzz_anonymous = fuzz_as("anonymous")
test_fuzz_api_client = fuzz_as("api_client")
test_fuzz_admin = fuzz_as("admin")
test_fuzz_planner = fuzz_as("planner")
test_fuzz_district = fuzz_as("xicheng")
test_fuzz_street = fuzz_as("guangwai")
test_fuzz_department = fuzz_as("xicheng_cgw")


def test_fuzzing_made_enough_cases(request):
    """Runs after the fuzz tests above (file order): the CI-sized run must make at least 1,000 cases."""
    fuzzed = [item for item in request.session.items if item.name.startswith("test_fuzz_")]
    if len(fuzzed) < 7 * 40:
        pytest.skip("only part of the fuzz suite was selected")
    print(f"schemathesis cases: {CASES['count']}")
    assert CASES["count"] >= 1000 * EXAMPLES / 4
