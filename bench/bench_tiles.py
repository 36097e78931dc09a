"""Vector tile latency: p50/p95 per zoom over a fixed set of tiles, against a plain PostGIS MVT query.

Run (against the database with the Beijing demo; nothing is written):

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_tiles.py
    … bench/bench_tiles.py --layer areas --filter level=street --crs gcj02 --zooms 8-17 --repeat 5

`--layer complaints` never touches the database DATABASE_URL names: it creates a scratch database
`bench_shaozi_tiles` on the same server (dropped afterwards unless --keep; a kept one is reused), migrates it,
loads the Beijing demo boundaries and the catalogue, and fills it with `--complaints` (default 5,000,000)
synthetic complaints in one INSERT … SELECT generate_series (seeded: points around the demo streets' inner points,
denser in the central districts, two years of receipt times, random third-level categories and statuses).
It adds the index the layer's ETag needs (`complaint_updated`, see docs/maps.md), measures the tiles, and
then the first paint of the map page in Chromium (Playwright, `performance.getEntriesByType('paint')`) with the
complaints layer shown, served by a LiveServerThread on 127.0.0.1.

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_tiles.py \
        --layer complaints --zooms 10-17 [--complaints 5000000] [--filter status=closed] [--keep]

Three timings per tile, each the median of `--repeat` runs after one warm-up:
  endpoint  GET /tiles/{layer}/{z}/{x}/{y}.pbf through Django's full stack (validation, ETag version query, SQL)
  selector  maps.tiles.tile_mvt alone (the SQL: clip, simplify, transform, ST_AsMVT)
  plain     (areas only) the textbook query — ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), envelope)) over
            rows meeting the envelope — as the PostGIS peer
The tile set: the tiles under 24 fixed points spread over Beijing (seeded), at every zoom asked for.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SCRATCH_DB = "bench_shaozi_tiles"
if "complaints" in sys.argv[1:] or "--layer=complaints" in sys.argv[1:]:
    # Scratch database: the test settings name it through SHAOZI_TEST_DB (as bench_intake.py does).
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["SHAOZI_TEST_DB"] = SCRATCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from jurisdictions.models import Area  # noqa: E402
from maps import tiles  # noqa: E402

BEIJING = (115.42, 39.44, 117.50, 41.06)  # west, south, east, north
SEED = 20240501


def sample_points(n: int = 24) -> list[tuple[float, float]]:
    """Fixed points over Beijing: the centre (天安门) and `n - 1` seeded points in the city's bounding box."""
    rng = np.random.default_rng(SEED)
    west, south, east, north = BEIJING
    points = [(116.3913, 39.9075)]
    points += [(float(rng.uniform(west, east)), float(rng.uniform(south, north))) for _ in range(n - 1)]
    return points


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180.0) / 360.0 * n), int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)


def tile_set(zoom: int) -> list[tuple[int, int, int]]:
    return sorted({(zoom, *tile_of(lon, lat, zoom)) for lon, lat in sample_points()})


def timed(fn, repeat: int) -> float:
    fn()  # warm-up: plans, caches
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def plain_postgis(z: int, x: int, y: int, filters: dict, ids: list[int]) -> bytes:
    """The PostGIS peer for `areas` (`ids`: the current areas): no clipping or simplification before projecting."""
    level_sql = "AND a.level = %s" if filters.get("level") else ""
    params = [z, x, y, ids, z, x, y] + ([filters["level"]] if filters.get("level") else [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ST_AsMVT(t, 'areas', 4096, 'geom', 'fid') FROM (
                SELECT a.id AS fid, a.code, a.name, a.level,
                       ST_AsMVTGeom(ST_Transform(a.geom, 3857), ST_TileEnvelope(%s, %s, %s), 4096, 64, true) AS geom
                FROM jurisdictions_area a
                WHERE a.id = ANY(%s) AND a.geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326) {level_sql}
            ) t WHERE t.geom IS NOT NULL
            """,
            params,
        )
        return bytes(cursor.fetchone()[0] or b"")


# The complaints layer's peer: the same hexagon tile counted from the complaints rows (what a filter other than the
# dates does), made to take that path by a status filter that keeps every status.
COUNTED_ZOOMS = range(10, 16)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def parse_zooms(text: str) -> list[int]:
    if "-" in text:
        low, high = (int(v) for v in text.split("-"))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",")]


# ---- complaints: the scratch database and its synthetic load ----------------------------------------------------

# The index the complaints layer's ETag version needs (max(updated_at) would otherwise read the whole table).
COMPLAINT_UPDATED_INDEX = "CREATE INDEX IF NOT EXISTS complaint_updated ON complaints_complaint (updated_at)"


def complaints_database(rows: int) -> None:
    """Create/reuse the scratch database, load boundaries and catalogue, top it up to `rows` complaints."""
    from django.core.management import call_command

    # serialize=False: Django would otherwise read the whole (kept) database into memory, for test rollbacks.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    if not Area.objects.exists():
        call_command("demo_load", verbosity=0)
    call_command("complaints_demo_load", "--reference-only", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM complaints_complaint")
        have = cursor.fetchone()[0]
        if have < rows:
            started = time.perf_counter()
            synthetic_complaints(cursor, start=have, rows=rows - have)
            print(f"loaded {rows - have:,} synthetic complaints in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        cursor.execute(COMPLAINT_UPDATED_INDEX)
        cursor.execute("VACUUM ANALYZE complaints_complaint")
        print(f"index complaint_updated + VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('complaints_complaint')) FROM complaints_complaint"
        )
        count, size = cursor.fetchone()
        print(f"complaints: {count:,} rows, table + indexes {size}")
    from complaints import cells

    started = time.perf_counter()
    folded = cells.cells_rebuild()  # from scratch, whatever a kept database held
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE complaints_complaintcell")
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('complaints_complaintcell')) "
            "FROM complaints_complaintcell"
        )
        cells_rows, cells_size = cursor.fetchone()
    print(
        f"hexagon counts: {folded:,} complaints counted from scratch in {time.perf_counter() - started:.0f} s → "
        f"{cells_rows:,} rows (zooms {cells.CELL_ZOOMS[0]}–{cells.CELL_ZOOMS[-1]}), table + index {cells_size}"
    )


def synthetic_complaints(cursor, *, start: int, rows: int) -> None:
    """INSERT … SELECT generate_series: points around the streets' inner points (Gaussian, ~700 m), each street
    weighted by 1/(1 + distance to the centre in km / 8)² so the centre is dense, like the real hotline's."""
    cursor.execute("SELECT setseed(0.20240501)")
    cursor.execute(
        """
        CREATE TEMP TABLE bench_anchor AS
        SELECT row_number() OVER (ORDER BY s.code) AS n, s.code, s.name, d.code AS district_code,
               d.name AS district_name, ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat,
               1.0 / (1 + ST_DistanceSphere(p.pt, ST_SetSRID(ST_MakePoint(116.3913, 39.9075), 4326)) / 8000.0) ^ 2
                   AS weight
        FROM jurisdictions_area s JOIN jurisdictions_area d ON d.id = s.parent_id
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(s.geom) AS pt) p
        WHERE s.level = 'street' AND s.id = ANY(%s)
        """,
        [list(Area.objects.current().values_list("id", flat=True))],
    )
    cursor.execute(
        """
        INSERT INTO complaints_complaint (
            external_id, channel, received_at, urgency, description, address, location, location_source,
            input_crs, verdict, verdict_method, generation_name, district_code, district_name, street_code,
            street_name, lead_code, lead_name, needs_review, status, satisfaction, reporter, created_at,
            updated_at, category_id)
        SELECT 'bench-' || g.i, 'phone', r.at, 'general', '', '', r.location, 'gps', 'wgs84', '{}'::jsonb,
               'point', '', a.district_code, a.district_name, a.code, a.name, a.code, a.name, false,
               (ARRAY['received','dispatched','accepted','in_progress','resolved','closed','closed','closed'])
                   [1 + floor(random() * 8)::int],
               '', '{}'::jsonb, r.at, r.at, leaves.ids[1 + floor(random() * array_length(leaves.ids, 1))::int]
        FROM generate_series(%s, %s) AS g(i)
        CROSS JOIN (SELECT array_agg(id ORDER BY code) AS ids FROM complaints_category WHERE level = 3) AS leaves
        CROSS JOIN (
            -- each street's lower bound on [0, 1): width_bucket finds a random number's street by bisection
            SELECT array_agg(lower_bound ORDER BY n) AS bounds FROM (
                SELECT n, coalesce(sum(weight) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                                  / sum(weight) OVER (), 0) AS lower_bound
                FROM bench_anchor
            ) AS w
        ) AS pick
        CROSS JOIN LATERAL (SELECT random() AS u, random() AS u1, random() AS u2, random() AS t, g.i AS i) AS d
        JOIN bench_anchor a ON a.n = width_bucket(d.u, pick.bounds)
        CROSS JOIN LATERAL (
            SELECT timestamptz '2024-01-01 00:00+08' + d.t * interval '730 days' AS at,
                   ST_SetSRID(ST_MakePoint(
                       a.lon + 0.0082 * sqrt(-2 * ln(1 - d.u1)) * cos(2 * pi() * d.u2),
                       a.lat + 0.0063 * sqrt(-2 * ln(1 - d.u1)) * sin(2 * pi() * d.u2)), 4326) AS location
        ) AS r
        """,
        [start + 1, start + rows],
    )


def first_paint(rows: int, repeat: int) -> None:
    """First paint / first contentful paint of `/` with the complaints layer on, in Chromium (median of runs)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("first paint: playwright is not installed, skipped")
        return
    if not Path("/usr/bin/chromium").exists():
        print("first paint: /usr/bin/chromium missing, skipped")
        return
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    url = f"http://127.0.0.1:{thread.port}/#map=12/39.90750/116.39130&layers=districts,streets,complaints"
    figures: dict[str, list[float]] = {
        "first-paint": [],
        "first-contentful-paint": [],
        "complaint tiles": [],
        "complaint tiles after first contentful paint": [],
    }
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for _ in range(repeat + 1):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(TILES_SEEN_SCRIPT)
                page.goto(url)
                page.wait_for_function("window.__complaintTilesAt !== undefined", timeout=600_000)
                tiles_ms = page.evaluate("window.__complaintTilesAt")
                paints = dict(page.evaluate("performance.getEntriesByType('paint').map(e => [e.name, e.startTime])"))
                for name, value in paints.items():
                    figures.setdefault(name, []).append(value)
                figures["complaint tiles"].append(tiles_ms)
                if "first-contentful-paint" in paints:
                    figures["complaint tiles after first contentful paint"].append(
                        tiles_ms - paints["first-contentful-paint"]
                    )
                page.close()
            browser.close()
    finally:
        thread.terminate()
    # The first run warms the server (imports, plans) and is dropped.
    parts = [f"{name} {statistics.median(values[1:]):.0f} ms" for name, values in figures.items() if len(values) > 1]
    print(
        f"page in Chromium, zoom 12 over the centre, {rows:,} complaints (median of {repeat}; times from navigation "
        "start, the page's own clock): " + ", ".join(parts)
    )


# The moment the map reports its first complaint tile loaded (planner.js sets data-loaded-complaints on <body>),
# on the page's own clock, so it compares with the paint entries.
TILES_SEEN_SCRIPT = """
new MutationObserver((changes, observer) => {
  if (Number(document.body.getAttribute("data-loaded-complaints") || 0) >= 1) {
    window.__complaintTilesAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-loaded-complaints"]});
"""


def drop_scratch_database() -> None:
    """Drop the scratch database even while the page's server threads still hold connections to it (a chart query
    the closed browser started can still be running): PostgreSQL's DROP DATABASE … WITH (FORCE) ends them."""
    connection.close()
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
    print(f"scratch database {SCRATCH_DB} dropped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", default="areas", help="registered tile layer (default areas)")
    parser.add_argument("--filter", action="append", default=[], help="name=value, repeatable (e.g. level=street)")
    parser.add_argument("--crs", default="wgs84", choices=tiles.TILE_SYSTEMS)
    parser.add_argument("--zooms", default="8-17", help="e.g. 8-17 or 8,12,16")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--complaints", type=int, default=5_000_000, help="complaints layer: rows to load")
    parser.add_argument("--keep", action="store_true", help="complaints layer: keep the scratch database")
    args = parser.parse_args()

    if args.layer == "complaints":
        complaints_database(args.complaints)
        try:
            run(args)
            first_paint(args.complaints, args.repeat)
        finally:
            if not args.keep:
                drop_scratch_database()
        return
    run(args)


def run(args) -> None:
    layer = tiles.layer_get(args.layer)
    raw_filters = dict(item.split("=", 1) for item in args.filter)
    filters = layer.parse_filters(raw_filters)
    query = "&".join([*(f"{k}={v}" for k, v in raw_filters.items()), f"crs={args.crs}"])
    client = Client(SERVER_NAME="127.0.0.1")
    with_peer = layer.name == "areas" and args.crs == "wgs84"
    counted_peer = layer.name == "complaints" and set(raw_filters) <= {"from", "to"}
    if counted_peer:
        from complaints.constants import Status

        every_status = tuple(sorted(Status.values))
    current_ids = list(Area.objects.current(filters.get("at")).values_list("id", flat=True)) if with_peer else []

    print(f"layer={layer.name} filters={raw_filters or '{}'} crs={args.crs} repeat={args.repeat} (median of repeats)")
    header = f"{'zoom':>4} {'tiles':>5} {'KiB avg':>8} {'endpoint p50/p95 ms':>20} {'selector p50/p95 ms':>20}"
    if with_peer:
        header += f" {'plain PostGIS p50/p95 ms':>25} {'plain/selector p50':>19}"
    if counted_peer:
        header += f" {'counted p50/p95 ms':>20} {'counted/selector p95':>21}"
    print(header)
    all_endpoint, all_selector = [], []
    for zoom in parse_zooms(args.zooms):
        endpoint, selector, plain, sizes = [], [], [], []
        for z, x, y in tile_set(zoom):
            url = f"/tiles/{layer.name}/{z}/{x}/{y}.pbf?{query}"
            response = client.get(url)
            if response.status_code not in (200, 204):
                raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
            sizes.append(len(response.content))
            endpoint.append(timed(lambda url=url: client.get(url), args.repeat))
            selector.append(
                timed(
                    lambda z=z, x=x, y=y: tiles.tile_mvt(layer=layer, z=z, x=x, y=y, filters=filters, system=args.crs),
                    args.repeat,
                )
            )
            if with_peer:
                plain.append(timed(lambda z=z, x=x, y=y: plain_postgis(z, x, y, filters, current_ids), args.repeat))
            if counted_peer and zoom in COUNTED_ZOOMS:
                plain.append(
                    timed(
                        lambda z=z, x=x, y=y: tiles.tile_mvt(
                            layer=layer, z=z, x=x, y=y, filters={**filters, "status": every_status}, system=args.crs
                        ),
                        args.repeat,
                    )
                )
        all_endpoint += endpoint
        all_selector += selector
        line = (
            f"{zoom:>4} {len(endpoint):>5} {statistics.mean(sizes) / 1024:>8.1f} "
            f"{percentile(endpoint, 50) * 1000:>9.1f}/{percentile(endpoint, 95) * 1000:<10.1f} "
            f"{percentile(selector, 50) * 1000:>9.1f}/{percentile(selector, 95) * 1000:<10.1f}"
        )
        if with_peer:
            line += (
                f" {percentile(plain, 50) * 1000:>12.1f}/{percentile(plain, 95) * 1000:<12.1f}"
                f" {percentile(plain, 50) / percentile(selector, 50):>18.2f}x"
            )
        if counted_peer and plain:
            line += (
                f" {percentile(plain, 50) * 1000:>9.1f}/{percentile(plain, 95) * 1000:<10.1f}"
                f" {percentile(plain, 95) / percentile(selector, 95):>20.1f}x"
            )
        print(line)
    print(
        f" all {len(all_endpoint):>5} {'':>8} "
        f"{percentile(all_endpoint, 50) * 1000:>9.1f}/{percentile(all_endpoint, 95) * 1000:<10.1f} "
        f"{percentile(all_selector, 50) * 1000:>9.1f}/{percentile(all_selector, 95) * 1000:<10.1f}"
    )


if __name__ == "__main__":
    main()
