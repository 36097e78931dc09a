"""Bulk resolver vs a PostGIS join vs geopandas sjoin, side by side in one run, with point-for-point checks.

Run (the Beijing demo must be loaded in the database DATABASE_URL points at):

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_resolve.py \\
        --sizes 1000000,10000000

For each size it builds synthetic points (uniform over Beijing's bounding box, plus a share placed exactly on
street boundaries: vertices, midpoints of axis-parallel edges and points computed on slanted edges), then
times, on the same points and the same subdivided street pieces (jurisdictions_areapiece):

- the project's resolver (geo.pointindex via jurisdictions.bulk; index built once, as it is cached in process),
- a PostGIS join: temp table of points (GiST) × pieces (GiST) with ST_Covers, reduced to the lowest label and
  the number of covering streets (CREATE TEMP TABLE … AS; loading the points is timed apart),
- geopandas ``sjoin(predicate="covered_by")`` (the sjoin call; building the points is timed apart).

The tie rule (lowest district code, then that district's lowest street code = the label order) is applied to
the raw results of the other two. It checks that the resolver ("postgis" predicate) equals PostGIS and that the
"robust" predicate equals geopandas/GEOS, point for point, and prints points/s and the ratios. Everything runs
on one core: numba kernels are serial and PostgreSQL gets max_parallel_workers_per_gather = 0.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402
from django.db import connection  # noqa: E402

from geo.pointindex import PointIndex  # noqa: E402
from jurisdictions import bulk  # noqa: E402
from jurisdictions.models import Area, Generation  # noqa: E402


def street_pieces(generation: Generation, table: bulk.AreaTable):
    """The pieces the resolver indexes, with their labels (rank in the tie-rule order) and area ids."""
    label_of_code = {code: i for i, code in enumerate(table.code.tolist())}
    areas = bulk._areas(generation).values_list("id", "code")
    label_of_area = {pk: label_of_code[code] for pk, code in areas if code in label_of_code}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT area_id, ST_AsBinary(geom) FROM jurisdictions_areapiece WHERE area_id = ANY(%s) ORDER BY id",
            [list(label_of_area)],
        )
        rows = cursor.fetchall()
    geoms = shapely.from_wkb([bytes(w) for _, w in rows])
    labels = np.array([label_of_area[a] for a, _ in rows], dtype=np.int64)
    return geoms, labels, label_of_area


def make_points(geoms, n: int, boundary_share: float, seed: int):
    rng = np.random.default_rng(seed)
    districts = Area.objects.filter(level="district").values_list("geom", flat=True)
    minx = min(g.extent[0] for g in districts)
    miny = min(g.extent[1] for g in districts)
    maxx = max(g.extent[2] for g in districts)
    maxy = max(g.extent[3] for g in districts)
    rings = shapely.get_rings(geoms)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    axis = (a[:, 0] == b[:, 0]) | (a[:, 1] == b[:, 1])
    t = rng.random(int((~axis).sum()))[:, None]
    on_edges = np.vstack([coords, (a[axis] + b[axis]) / 2, a[~axis] + t * (b[~axis] - a[~axis])])
    k = int(n * boundary_share)
    pick = on_edges[rng.integers(0, len(on_edges), k)]
    x = np.r_[rng.uniform(minx, maxx, n - k), pick[:, 0]]
    y = np.r_[rng.uniform(miny, maxy, n - k), pick[:, 1]]
    order = rng.permutation(n)
    return x[order], y[order], (minx, miny, maxx, maxy)


def run_postgis(x, y, label_of_area):
    n = len(x)
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("DROP TABLE IF EXISTS bench_points, bench_labels, bench_result")
        cursor.execute("CREATE TEMP TABLE bench_labels (area_id int PRIMARY KEY, label int)")
        buffer = io.StringIO("".join(f"{a}\t{lab}\n" for a, lab in label_of_area.items()))
        cursor.copy_from(buffer, "bench_labels")
        t0 = time.perf_counter()
        cursor.execute("CREATE TEMP TABLE bench_xy (i int, x float8, y float8)")
        step = 1_000_000
        for start in range(0, n, step):
            chunk = io.StringIO()
            xs, ys = x[start : start + step].tolist(), y[start : start + step].tolist()
            chunk.write("".join(f"{start + i}\t{a!r}\t{b!r}\n" for i, (a, b) in enumerate(zip(xs, ys, strict=True))))
            chunk.seek(0)
            cursor.copy_from(chunk, "bench_xy")
        cursor.execute(
            "CREATE TEMP TABLE bench_points AS SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom FROM bench_xy"
        )
        cursor.execute("DROP TABLE bench_xy")
        cursor.execute("CREATE INDEX ON bench_points USING gist (geom)")
        cursor.execute("ANALYZE bench_points")
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute(
            """
            CREATE TEMP TABLE bench_result AS
            SELECT t.i, min(l.label) AS label, count(DISTINCT l.label) AS n
              FROM bench_points t
              JOIN jurisdictions_areapiece p ON ST_Covers(p.geom, t.geom)
              JOIN bench_labels l ON l.area_id = p.area_id
             GROUP BY t.i
            """
        )
        join = time.perf_counter() - t0
        out = io.StringIO()
        cursor.copy_expert("COPY bench_result TO STDOUT", out)
        cursor.execute("DROP TABLE bench_points, bench_labels, bench_result")
        cursor.execute("RESET max_parallel_workers_per_gather")
    out.seek(0)
    raw = np.loadtxt(out, dtype=np.int64, ndmin=2) if out.getvalue() else np.zeros((0, 3), np.int64)
    first = np.full(n, -1, np.int64)
    count = np.zeros(n, np.int64)
    first[raw[:, 0]] = raw[:, 1]
    count[raw[:, 0]] = raw[:, 2]
    return first, count, load, join


def run_geopandas(x, y, geoms, labels):
    t0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    build = time.perf_counter() - t0
    pieces = gpd.GeoDataFrame({"label": labels}, geometry=geoms, crs=4326)
    pieces.sindex  # noqa: B018 - built before timing, like the PostGIS GiST index
    t0 = time.perf_counter()
    joined = gpd.sjoin(points, pieces, predicate="covered_by", how="inner")
    join = time.perf_counter() - t0
    point_i = joined.index.to_numpy()
    piece_label = joined["label"].to_numpy()
    first = np.full(len(x), np.iinfo(np.int64).max)
    np.minimum.at(first, point_i, piece_label)
    first[first == np.iinfo(np.int64).max] = -1
    pairs = np.unique(point_i * 100_000 + piece_label)
    count = np.bincount(pairs // 100_000, minlength=len(x))
    return first, count, build, join


def mismatches(a_first, a_count, b_first, b_count) -> int:
    return int(((a_first != b_first) | (a_count != b_count)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated point counts")
    parser.add_argument("--boundary-share", type=float, default=0.01, help="share of points placed on edges")
    parser.add_argument("--repeat", type=int, default=3, help="resolver timing: best of this many runs")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    generation = Generation.objects.in_force()
    t0 = time.perf_counter()
    built = bulk.boundary_index(generation=generation)
    build = time.perf_counter() - t0
    geoms, labels, label_of_area = street_pieces(generation, built.table)
    t0 = time.perf_counter()
    robust = PointIndex(geoms, labels, cells=bulk.INDEX_CELLS, predicate="robust")
    build_robust = time.perf_counter() - t0
    stats = built.index.stats
    print(f"generation {generation.name}: {len(built.table)} streets, {len(geoms)} pieces, {stats['edges']} edges")
    print(
        f"index: grid {stats['grid'][0]}×{stats['grid'][1]} cells of {stats['cell_deg'][0] * 111_320:.0f} m, "
        f"{stats['mixed_share']:.1%} mixed, {built.nbytes / 2**20:.1f} MiB; "
        f"build {build:.2f} s (incl. loading pieces from the database), robust build {build_robust:.2f} s"
    )
    print(f"cpu: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")

    for n in sizes:
        x, y, _ = make_points(geoms, n, args.boundary_share, args.seed)
        built.index.query(x[:1000], y[:1000])
        best = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            first, count = built.index.query(x, y)
            best = min(best, time.perf_counter() - t0)
        exact_tests = built.index.last_exact_tests
        t0 = time.perf_counter()
        resolution = bulk.resolve_points(lon=x, lat=y, generation=generation)
        _ = resolution.street_code, resolution.district_code
        end_to_end = time.perf_counter() - t0
        t0 = time.perf_counter()
        r_first, r_count = robust.query(x, y)
        robust_time = time.perf_counter() - t0

        pg_first, pg_count, pg_load, pg_join = run_postgis(x, y, label_of_area)
        gp_first, gp_count, gp_build, gp_join = run_geopandas(x, y, geoms, labels)

        print(f"\n== {n:,} points ({args.boundary_share:.0%} on street edges), load average {os.getloadavg()[0]:.2f}")
        print(f"resolver (postgis predicate) {best:8.3f} s  {n / best / 1e6:8.2f} M points/s  ({exact_tests:,} exact)")
        print(f"resolver (robust predicate)  {robust_time:8.3f} s  {n / robust_time / 1e6:8.2f} M points/s")
        print(f"resolve_points + names       {end_to_end:8.3f} s  {n / end_to_end / 1e6:8.2f} M points/s")
        print(
            f"PostGIS join (1 core)        {pg_join:8.3f} s  {n / pg_join / 1e6:8.2f} M points/s"
            f"  (load {pg_load:.1f} s)"
        )
        print(
            f"geopandas sjoin              {gp_join:8.3f} s  {n / gp_join / 1e6:8.2f} M points/s"
            f"  (points {gp_build:.1f} s)"
        )
        print(f"ratio vs PostGIS join   {pg_join / best:7.1f}×   vs geopandas sjoin {gp_join / best:7.1f}×")
        covered = int((pg_first >= 0).sum())
        on_edge = int((pg_count > 1).sum())
        print(f"covered {covered:,}, on a shared edge {on_edge:,}")
        print(
            "agreement: resolver(postgis) vs PostGIS mismatches "
            f"{mismatches(first, count, pg_first, pg_count)}; resolver(robust) vs geopandas "
            f"{mismatches(r_first, r_count, gp_first, gp_count)}; PostGIS vs geopandas "
            f"{mismatches(pg_first, pg_count, gp_first, gp_count)}"
        )
        del x, y, first, count, r_first, r_count, pg_first, pg_count, gp_first, gp_count, resolution
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nindex memory {built.nbytes / 2**20:.1f} MiB; process peak RSS {peak:.0f} MiB (includes all three engines)"
    )


if __name__ == "__main__":
    main()
