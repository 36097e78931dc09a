"""Bulk intake speed: rows per second for a synthetic complaint file, conversion + verdict + write included.

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_intake.py [--rows 1000000]

The run never touches the database DATABASE_URL names: it creates (and afterwards drops, unless --keep) a
scratch database `bench_shaozi_complaints` on the same server, migrates it and loads the Beijing demo
boundaries, departments, catalogue and calendars. The file is synthetic (fixed seed): points spread over the
demo street cells, 30 % of them in GCJ-02, a year of receipt times, random third-level categories.

It prints, for the whole import (reading the CSV, validation, GCJ-02 → WGS-84, working-day deadlines, the
verdict for every row and the write of complaints, history and assignments):
- rows/s of the whole import (verdicts from the jurisdiction engine, `jurisdictions.engine.resolve`), and how
  much of it the map's hexagon counts take;
- when --compare is given, a set-based PostGIS join (ST_Covers on the subdivided pieces, the textbook peer)
  over the imported points, its points/s, and on how many rows it names the same street as the engine
  (it differs only where a rule or a straddling building decides, or on an edge).
Nothing is asserted: the figures are for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["SHAOZI_TEST_DB"] = "bench_shaozi_complaints"

SEED = 20250301


def synthetic_file(path: Path, rows: int) -> None:
    """Write `rows` synthetic complaints as CSV (deterministic)."""
    from geo import coords

    rng = np.random.default_rng(SEED)
    streets = json.loads((ROOT / "fixtures" / "beijing" / "streets.geojson").read_text(encoding="utf-8"))["features"]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in streets]
    areas = np.array([s.area for s in shapes])
    weights = 1 / np.sqrt(areas)
    weights /= weights.sum()
    counts = np.bincount(rng.choice(len(shapes), size=rows, p=weights), minlength=len(shapes))
    lon = np.empty(rows)
    lat = np.empty(rows)
    at = 0
    for shape, count in zip(shapes, counts, strict=True):
        got = 0
        minx, miny, maxx, maxy = shape.bounds
        while got < count:
            xs = rng.uniform(minx, maxx, count * 3 + 16)
            ys = rng.uniform(miny, maxy, count * 3 + 16)
            inside = shapely.contains_xy(shape, xs, ys)
            take = min(int(inside.sum()), count - got)
            lon[at + got : at + got + take] = xs[inside][:take]
            lat[at + got : at + got + take] = ys[inside][:take]
            got += take
        at += count
    order = rng.permutation(rows)
    lon, lat = lon[order], lat[order]
    gcj = rng.random(rows) < 0.3
    glon, glat = coords.wgs84_to_gcj02(lon[gcj], lat[gcj])
    lon[gcj], lat[gcj] = glon, glat
    catalogue = json.loads((ROOT / "fixtures" / "complaints" / "catalogue.json").read_text(encoding="utf-8"))
    leaves = [leaf["code"] for top in catalogue["categories"] for mid in top["children"] for leaf in mid["children"]]
    start = np.datetime64("2025-01-01T00:00:00")
    seconds = np.sort(rng.integers(0, 365 * 86400, rows))
    received = (start + seconds.astype("timedelta64[s]")).astype(str)
    frame = pd.DataFrame(
        {
            "external_id": np.char.add("BENCH", np.arange(1, rows + 1).astype(str)),
            "received_at": np.char.add(received.astype(str), "+08:00"),
            "channel": rng.choice(["phone", "app", "wechat", "web"], rows),
            "category": rng.choice(leaves, rows),
            "description": "合成基准数据 synthetic benchmark row",
            "address": "",
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "crs": np.where(gcj, "gcj02", "wgs84"),
        }
    )
    frame.to_csv(path, index=False)


def as_spatial(csv_path: Path, fmt: str) -> Path:
    """The same rows as a GeoJSON or GeoPackage file of points (the `crs` column kept per row)."""
    import geopandas as gpd
    import pyogrio

    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    points = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=shapely.points(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs=4326,
    )
    path = csv_path.with_suffix(".geojson" if fmt == "geojson" else ".gpkg")
    pyogrio.write_dataframe(points, path)
    return path


def setup_database():
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    from jurisdictions.models import Area

    if not Area.objects.exists():
        call_command("demo_load", verbosity=0)
    call_command("complaints_demo_load", "--reference-only", verbosity=0)
    return connection


def run_import(path: Path, batch_size: int) -> tuple[float, object, float]:
    """Seconds for the whole import, the import record, and seconds from its last batch to its end (the map's
    hexagon counts taking the new rows in: `complaints.cells.cells_fold`)."""
    from complaints import bulk
    from complaints.permissions import SystemPrincipal

    last_batch = []
    started = time.perf_counter()
    record = bulk.complaints_import(
        source=path,
        batch_size=batch_size,
        by=SystemPrincipal("bench"),
        progress=lambda rows: last_batch.append(time.perf_counter()),
    )
    ended = time.perf_counter()
    return ended - started, record, ended - (last_batch[-1] if last_batch else ended)


def clear():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE complaints_repeatlink, complaints_returnrequest, complaints_assignment, complaints_statuschange,"
            " complaints_complaint, complaints_bulkrowerror, complaints_bulkimport"
        )


def methods() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT verdict_method, count(*) FROM complaints_complaint GROUP BY 1 ORDER BY 2 DESC")
        return dict(cursor.fetchall())


def postgis_join() -> tuple[float, int, int]:
    """The peer: one set-based PostGIS join naming the lowest covering street of every imported point. Seconds,
    rows, and rows where it names the street the engine stored."""
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE j.code IS NOT DISTINCT FROM NULLIF(c.street_code, ''))
              FROM complaints_complaint c
              LEFT JOIN LATERAL (
                    SELECT a.code FROM jurisdictions_areapiece p JOIN jurisdictions_area a ON a.id = p.area_id
                     WHERE a.level = 'street' AND ST_Covers(p.geom, c.location) ORDER BY a.code LIMIT 1) j ON true
            """
        )
        rows, same = cursor.fetchone()
        return time.perf_counter() - started, rows, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--compare", action="store_true", help="also run the PostGIS join peer over the points")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--format", default="csv", choices=["csv", "geojson", "gpkg"], help="file format to import (default csv)"
    )
    args = parser.parse_args()

    connection = setup_database()

    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "complaints.csv"
            started = time.perf_counter()
            synthetic_file(path, args.rows)
            if args.format != "csv":
                path = as_spatial(path, args.format)
            made = time.perf_counter() - started
            print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB ({args.format}), made in {made:.1f} s")
            clear()
            seconds, record, fold = run_import(path, args.batch_size)
            print(
                f"import [jurisdictions.engine.resolve]: {record.rows_created:,} created, {record.rows_bad} bad "
                f"in {seconds:.1f} s "
                f"= {record.rows_created / seconds:,.0f} rows/s; of which the map's hexagon counts {fold:.1f} s "
                f"(without them {record.rows_created / (seconds - fold):,.0f} rows/s)"
            )
            print(f"verdicts by method: {methods()}")
            seconds_again, record_again, _ = run_import(path, args.batch_size)
            print(
                f"re-run (all existing, idempotent): {record_again.rows_existing:,} skipped, "
                f"{record_again.rows_created} created in {seconds_again:.1f} s "
                f"= {args.rows / seconds_again:,.0f} rows/s"
            )
            if args.compare:
                sql_seconds, rows, same = postgis_join()
                print(
                    f"PostGIS join peer (street of every point only): {rows:,} in {sql_seconds:.1f} s "
                    f"= {rows / sql_seconds:,.0f} points/s; same street as the engine for {same:,}/{rows:,} rows"
                )
    finally:
        if not args.keep:
            connection.creation.destroy_test_db("bench_shaozi_complaints", verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
