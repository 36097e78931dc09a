"""The hotspots demo end to end on PostGIS: load, compute every layer, rank, plan, worklist, API."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from complaints.permissions import SYSTEM
from hotspots import selectors, services
from hotspots.constants import Layer
from hotspots.models import AnalysisRun, LotScore, Parcel
from jurisdictions.demo import demo_users_create

YICHENG = "LOT-HD-YICHENG"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the synthetic hotspots demo and compute every layer once for the module."""
    with django_db_blocker.unblock():
        call_command("hotspots_demo_load", verbosity=0)
    yield
    with django_db_blocker.unblock():
        AnalysisRun.objects.all().delete()


@pytest.mark.django_db
def test_demo_runs_every_layer(demo):
    for layer in Layer.values:
        run = selectors.run_get(layer=layer)
        assert run is not None, layer
        assert run.timings and run.finished_at


@pytest.mark.django_db
def test_yicheng_lot_ranks_among_the_top_and_its_plan_names_the_street_and_departments(demo):
    parcel = Parcel.objects.get(code=YICHENG)
    assert parcel.street_name == "学院路街道"
    run = selectors.run_get(layer=Layer.IDLE_LOTS)
    score = LotScore.objects.get(run=run, parcel=parcel)
    assert score.rank <= 3, [s.parcel.code for s in LotScore.objects.of_run(run)[:5]]
    plan = services.fix_plan_create(parcel=parcel, by=SYSTEM)
    assert plan.street_name == "学院路街道"
    roles = {d["role"] for d in plan.departments}
    assert {"market_supervision", "city_management", "planning"} <= roles
    names = " ".join(d["name"] for d in plan.departments)
    assert "市场监督管理局" in names and "城市管理委员会" in names and "规划和自然资源委员会海淀区分局" in names
    assert plan.complaints and plan.residents_served > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/repeat-places", "/api/v1/hotspots", "/api/v1/hotspots/emerging", "/api/v1/idle-lots"]
)
def test_layers_are_feature_collections_with_their_run(demo, client, url):
    body = client.get(url).json()
    assert body["type"] == "FeatureCollection" and body["features"]
    assert body["run"]["synthetic"] is True and body["run"]["params"]


@pytest.mark.django_db
def test_idle_lots_carry_rank_and_every_component(demo, client):
    features = client.get("/api/v1/idle-lots").json()["features"]
    ranks = [f["properties"]["rank"] for f in features]
    assert ranks == sorted(ranks) and ranks[0] == 1
    figures = features[0]["properties"]["figures"]
    assert set(figures["components"]) == {"residents", "complaints", "size", "years_idle"}
    assert figures["weights"] and figures["normalisers"]


@pytest.mark.django_db
def test_filters_and_errors(demo, client):
    everything = client.get("/api/v1/hotspots?page_size=10000").json()["count"]
    bbox = client.get("/api/v1/hotspots?page_size=10000&bbox=116.30,39.95,116.40,40.05").json()["count"]
    assert 0 < bbox < everything
    street = client.get("/api/v1/repeat-places?street=110108010&page_size=10000").json()["features"]
    assert all(f["properties"]["street_code"] == "110108010" for f in street)
    bad = client.get("/api/v1/hotspots?bbox=1,2,3").json()
    assert bad["error"]["code"] == "invalid_bbox"
    missing = client.get("/api/v1/hotspots?category=99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_run"
    assert client.get("/api/v1/hotspots/emerging?pattern=nope").json()["error"]["code"] == "invalid_pattern"


@pytest.mark.django_db
def test_list_query_counts_do_not_grow_with_features(demo, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get("/api/v1/idle-lots")
    with django_assert_max_num_queries(4):
        client.get("/api/v1/repeat-places?page_size=500")


@pytest.mark.django_db
def test_fix_plan_api_and_worklist(demo, client):
    anonymous = client.post("/api/v1/fix-plans", {"parcel": YICHENG}, content_type="application/json")
    assert anonymous.status_code == 401
    demo_users_create()
    client.force_login(User.objects.get(username="guangwai"))  # a street in 西城: not 学院路's
    refused = client.post("/api/v1/fix-plans", {"parcel": YICHENG}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    client.force_login(User.objects.get(username="xueyuanlu"))
    created = client.post("/api/v1/fix-plans", {"parcel": YICHENG}, content_type="application/json")
    assert created.status_code == 201
    plan = created.json()
    assert plan["properties"]["street_name"] == "学院路街道"
    assert client.get(f"/api/v1/fix-plans/{plan['id']}?download=true")["Content-Disposition"].endswith('.geojson"')
    moved = client.post(
        f"/api/v1/fix-plans/{plan['id']}/status", {"status": "proposed"}, content_type="application/json"
    )
    assert moved.json()["properties"]["status"] == "proposed"
    bad = client.post(f"/api/v1/fix-plans/{plan['id']}/status", {"status": "x"}, content_type="application/json")
    assert bad.json()["error"]["code"] == "invalid_status"
    assert client.post("/api/v1/fix-plans", {"parcel": "NOPE"}, content_type="application/json").status_code == 404
    worklists = {}
    for code in (
        "110108010",
        *{
            f["properties"]["street_code"]
            for f in client.get("/api/v1/hotspots/emerging?pattern=new_hot,consecutive_hot,intensifying_hot").json()[
                "features"
            ]
        },
    ):
        worklists[code] = client.get(f"/api/v1/worklists/{code}").json()
    entries = [e for body in worklists.values() for e in body["features"]]
    assert entries and all(e["properties"]["reason"] for e in entries)
    assert {e["properties"]["kind"] for e in entries} == {"emerging_cell", "repeat_place"}


def test_openapi_schema_lists_the_hotspots_paths():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in (
        "/api/v1/repeat-places",
        "/api/v1/hotspots",
        "/api/v1/hotspots/emerging",
        "/api/v1/idle-lots",
        "/api/v1/fix-plans",
        "/api/v1/worklists/{street_code}",
    ):
        assert path in paths
