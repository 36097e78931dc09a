"""POST /api/v1/jurisdiction/batch: order kept, bad rows reported with their numbers, good rows never dropped."""

import csv
import io
import json

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from geo import coords
from jurisdictions import bulk, selectors

URL = "/api/v1/jurisdiction/batch"


@pytest.fixture
def client():
    return APIClient()


def _post(client, body: str, content_type: str, accept: str | None = None, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    return client.generic("POST", f"{URL}?{query}" if query else URL, body.encode(), content_type, **headers)


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    return json.loads(b"".join(response.streaming_content))


def _beijing_points(n: int, seed: int = 4):
    rng = np.random.default_rng(seed)
    return rng.uniform(115.42, 117.50, n), rng.uniform(39.44, 41.05, n)


def test_csv_keeps_order_and_reports_bad_rows_by_number(db, client):
    x, y = _beijing_points(300)
    lines = ["id,lon,lat,crs"]
    bad = {
        7: ("abc", "40.0", None, "lon"),
        20: ("116.4", "", None, "lat"),
        33: ("116.4", "95", None, "lat"),
        50: ("116.4", "40.0", "mars-2", "crs"),
        51: ("inf", "40.0", None, "lon"),
    }
    for i in range(300):
        if i + 1 in bad:
            lon, lat, crs, _ = bad[i + 1]
            lines.append(f"p{i},{lon},{lat},{crs or ''}")
        else:
            lines.append(f"p{i},{float(x[i])!r},{float(y[i])!r},")
    rows = _rows(_post(client, "\n".join(lines) + "\n", "text/csv"))
    assert [r["row"] for r in rows] == list(range(1, 301))
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(300)]
    for number, (_, _, _, field) in bad.items():
        assert rows[number - 1]["error"]["code"] == "invalid_row"
        assert field in rows[number - 1]["error"]["details"], rows[number - 1]
    good = [i for i in range(300) if i + 1 not in bad]
    assert all("error" not in rows[i] for i in good)
    want = bulk.resolve_points(lon=x[good], lat=y[good])
    assert [rows[i]["street"]["code"] if rows[i]["street"] else "" for i in good] == want.street_code.tolist()
    assert [rows[i]["district"]["code"] if rows[i]["district"] else "" for i in good] == want.district_code.tolist()
    assert {rows[i]["method"] for i in good} <= {"point", "outside", "building", "rule"}


def test_rows_agree_with_the_single_point_verdict(db, client):
    x, y = _beijing_points(25, seed=9)
    body = "lon,lat\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    rows = _rows(_post(client, body, "text/csv"))
    for row, a, b in zip(rows, x, y, strict=True):
        verdict = selectors.jurisdiction_lookup(point=Point(float(a), float(b), srid=4326)).as_dict()
        assert row["method"] == verdict["method"]
        assert row["lead"] == verdict["lead"]
        assert row["district"] == (verdict["district"] and {k: verdict["district"][k] for k in ("code", "name")})


def test_geojson_with_crs_ids_and_a_bad_feature(db, client):
    wgs = [(116.3975, 39.9087), (116.30, 39.99), (116.65, 40.13)]
    gcj_lon, gcj_lat = coords.from_wgs84([p[0] for p in wgs], [p[1] for p in wgs], coords.GCJ02)
    features = [
        {
            "type": "Feature",
            "id": "a",
            "geometry": {"type": "Point", "coordinates": [gcj_lon[0], gcj_lat[0]]},
            "properties": {"crs": "gcj02"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[116, 40], [117, 40]]},
            "properties": {"id": "line"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [gcj_lon[1], gcj_lat[1]]},
            "properties": {"id": 42, "crs": "GCJ-02"},
        },
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(wgs[2])}, "properties": None},
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features})
    rows = _rows(_post(client, body, "application/geo+json"))
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert [r["id"] for r in rows] == ["a", "line", "42", None]
    assert "geometry" in rows[1]["error"]["details"]
    want = bulk.resolve_points(lon=[p[0] for p in wgs], lat=[p[1] for p in wgs])
    got = [rows[i]["street"]["code"] for i in (0, 2, 3)]
    assert got == want.street_code.tolist()
    assert rows[0]["point"] == pytest.approx(list(wgs[0]), abs=1e-7)  # de-shifted back to WGS-84


def test_ndjson_and_csv_outputs_carry_the_same_rows(db, client):
    body = "lon,lat,id\n116.3975,39.9087,x\nnope,40,y\n116.40,39.91,z\n"
    as_json = _rows(_post(client, body, "text/csv"))
    response = _post(client, body, "text/csv", accept="application/x-ndjson")
    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert lines == as_json
    response = _post(client, body, "text/csv", accept="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [t["row"] for t in table] == ["1", "2", "3"]
    assert table[0]["street_code"] == as_json[0]["street"]["code"]
    assert table[1]["error_code"] == "invalid_row" and table[1]["street_code"] == ""
    assert json.loads(table[1]["error_details"]) == as_json[1]["error"]["details"]


def test_accuracy_rows_go_through_the_full_engine(db, client):
    body = "lon,lat,accuracy_m\n116.3975,39.9087,500\n116.3975,39.9087,\n116.3975,39.9087,-3\n"
    rows = _rows(_post(client, body, "text/csv"))
    verdict = selectors.jurisdiction_lookup(point=Point(116.3975, 39.9087, srid=4326), accuracy_m=500).as_dict()
    assert rows[0]["method"] == verdict["method"]
    assert rows[0]["lead"] == verdict["lead"]
    assert rows[1]["method"] == "point"
    assert "accuracy_m" in rows[2]["error"]["details"]


def test_whole_request_errors_use_the_error_shape(db, client):
    response = _post(client, "x,y\n1,2\n", "text/csv", accept="text/csv")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_header"
    response = _post(client, "<xml/>", "application/xml")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    response = _post(client, '{"type": "Feature"}', "application/json")
    assert response.json()["error"]["code"] == "invalid_body"
    response = _post(client, "{not json", "application/json")
    assert response.json()["error"]["code"] == "invalid_json"
    response = _post(client, "lon,lat\n116.4,39.9\n", "text/csv", at="2020-13-45")
    assert response.json()["error"]["code"] == "invalid_date"


def test_row_limit_is_enforced_and_documented(db, client, monkeypatch):
    from jurisdictions.api import batch

    monkeypatch.setattr(batch, "MAX_ROWS", 3)
    response = _post(client, "lon,lat\n" + "116.4,39.9\n" * 4, "text/csv")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_rows"
    assert len(_rows(_post(client, "lon,lat\n" + "116.4,39.9\n" * 3, "text/csv"))) == 3
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/jurisdiction/batch"]["post"]
    assert "1,000,000 rows" in operation["description"]
    assert set(operation["requestBody"]["content"]) >= {"application/geo+json", "text/csv"}


def test_rows_far_from_every_area_are_the_single_lookups_outside_verdict(db, client):
    body = "lon,lat\n100.0,20.0\n116.39,39.91\n"
    rows = _rows(_post(client, body, "text/csv"))
    far = selectors.jurisdiction_lookup(point=Point(100.0, 20.0, srid=4326)).as_dict()
    assert (rows[0]["method"], rows[0]["district"], rows[0]["street"], rows[0]["lead"]) == ("outside", None, None, None)
    assert (rows[0]["needs_review"], rows[0]["on_boundary"]) == (far["needs_review"], far["on_boundary"])
    assert rows[0]["generation"] == far["generation"]["name"]
    assert rows[1]["method"] == "point"
