"""Vector tile latency: p50/p95 per zoom over a fixed set of tiles, against a plain PostGIS MVT query.

Run (against the database with the Beijing demo; nothing is written):

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_tiles.py
    … bench/bench_tiles.py --layer areas --filter level=street --crs gcj02 --zooms 8-17 --repeat 5

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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

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


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def parse_zooms(text: str) -> list[int]:
    if "-" in text:
        low, high = (int(v) for v in text.split("-"))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", default="areas", help="registered tile layer (default areas)")
    parser.add_argument("--filter", action="append", default=[], help="name=value, repeatable (e.g. level=street)")
    parser.add_argument("--crs", default="wgs84", choices=tiles.TILE_SYSTEMS)
    parser.add_argument("--zooms", default="8-17", help="e.g. 8-17 or 8,12,16")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    layer = tiles.layer_get(args.layer)
    raw_filters = dict(item.split("=", 1) for item in args.filter)
    filters = layer.parse_filters(raw_filters)
    query = "&".join([*(f"{k}={v}" for k, v in raw_filters.items()), f"crs={args.crs}"])
    client = Client(SERVER_NAME="127.0.0.1")
    with_peer = layer.name == "areas" and args.crs == "wgs84"
    current_ids = list(Area.objects.current(filters.get("at")).values_list("id", flat=True)) if with_peer else []

    print(f"layer={layer.name} filters={raw_filters or '{}'} crs={args.crs} repeat={args.repeat} (median of repeats)")
    header = f"{'zoom':>4} {'tiles':>5} {'KiB avg':>8} {'endpoint p50/p95 ms':>20} {'selector p50/p95 ms':>20}"
    if with_peer:
        header += f" {'plain PostGIS p50/p95 ms':>25} {'plain/selector p50':>19}"
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
        print(line)
    print(
        f" all {len(all_endpoint):>5} {'':>8} "
        f"{percentile(all_endpoint, 50) * 1000:>9.1f}/{percentile(all_endpoint, 95) * 1000:<10.1f} "
        f"{percentile(all_selector, 50) * 1000:>9.1f}/{percentile(all_selector, 95) * 1000:<10.1f}"
    )


if __name__ == "__main__":
    main()
