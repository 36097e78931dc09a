"""A synthetic complaint archive resolved on Dask with 1 and 2 workers: points/s, scaling, memory per worker.

Run (the Beijing demo must be loaded in the database DATABASE_URL points at; it is only read):
    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_archive.py \\
        [--points 5000000] [--partition-rows 250000] [--dir /tmp/shaozi-bench-archive] [--workers 1,2]
`--points 50000000` is the size the archive issue names (about 1.6 GB of GeoParquet; generating it takes a while).

1. The archive is generated partition by partition (never whole in memory) as `archive_resolve` reads them: one
   GeoParquet file of `--partition-rows` points per file, Hive-partitioned by month over one year; points uniform
   over Beijing's urban core (70 %) and the whole municipality (30 %); 1 % of rows carry a 10 m accuracy circle.
   A folder that already holds an archive of the same size is reused.
2. The in-process ceiling: one partition read with geopandas and resolved in this process with the same calls a
   worker makes (`engine.resolve(…, state=…)` + `verdict_table(memory_only=True)`), IO not counted.
3. `archive.resolving.archive_resolve` on a new LocalCluster of 1, then 2 worker processes (one thread each):
   the workers' phase (state shipped, every partition read, resolved and written) in points/s, the scaling
   ratio, each worker's peak resident memory (ru_maxrss), the rows handed to the database engine and its time.
Nothing asserts on time; on a shared 2-core machine the 2-worker figure also competes with everything else.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from archive.cluster import dask_client  # noqa: E402
from archive.layout import days_of, read_manifest, write_manifest  # noqa: E402
from archive.resolving import archive_resolve  # noqa: E402
from jurisdictions import engine  # noqa: E402
from jurisdictions.models import Generation  # noqa: E402

YEAR = 2025


def generate(folder: Path, points: int, partition_rows: int, seed: int = 16) -> int:
    """Write the synthetic archive file by file; returns the number of files."""
    if read_manifest(folder).get("rows") == points and read_manifest(folder).get("partition_rows") == partition_rows:
        return len(list(folder.rglob("*.parquet")))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    files = -(-points // partition_rows)
    months = np.arange(files) * 12 // files + 1  # consecutive files share a month, as an export writes them
    written = 0
    clock = time.perf_counter()
    for i in range(files):
        n = min(partition_rows, points - written)
        urban = rng.random(n) < 0.7
        lon = np.where(urban, rng.uniform(116.2, 116.6, n), rng.uniform(115.5, 117.4, n))
        lat = np.where(urban, rng.uniform(39.75, 40.05, n), rng.uniform(39.5, 40.9, n))
        month = int(months[i])
        start = pd.Timestamp(f"{YEAR}-{month:02d}-01", tz="Asia/Shanghai")
        seconds = rng.integers(0, 28 * 86400, n)
        received = (start + pd.to_timedelta(seconds, unit="s")).tz_convert("UTC")
        accuracy = np.where(rng.random(n) < 0.01, 10.0, np.nan)
        frame = gpd.GeoDataFrame(
            {
                "complaint_id": np.arange(written, written + n, dtype=np.int64),
                "external_id": np.char.add("bench-", np.arange(written, written + n).astype(str)),
                "received_at": pd.Series(received).astype("datetime64[us, UTC]"),
                "accuracy_m": accuracy,
                "street_code": np.full(n, "", dtype=object),
                "street_name": np.full(n, "", dtype=object),
            },
            geometry=shapely.points(lon, lat),
            crs="EPSG:4326",
        )
        part = folder / f"month={YEAR}-{month:02d}"
        part.mkdir(exist_ok=True)
        frame.to_parquet(part / f"part-{i:06d}.parquet", index=False)
        written += n
        print(
            f"\r  generated {written:,} / {points:,} points ({time.perf_counter() - clock:.0f} s)", end="", flush=True
        )
    print()
    write_manifest(folder, {"rows": points, "partition_rows": partition_rows, "synthetic": True})
    return files


def ceiling(folder: Path, generation: Generation) -> tuple[int, float]:
    """Points/s of the in-process resolution of one partition (read first, not timed)."""
    first = sorted(folder.rglob("*.parquet"))[0]
    part = gpd.read_parquet(first)
    state = pickle.loads(pickle.dumps(engine.engine_state().prepare(generation)))
    lon, lat = shapely.get_x(part.geometry.values), shapely.get_y(part.geometry.values)
    days = days_of(part["received_at"])
    accuracy = part["accuracy_m"].to_numpy()
    engine.resolve(lon[:1000], lat[:1000], at=days[:1000], generation=generation, state=state)  # compile, warm
    clock = time.perf_counter()
    resolution = engine.resolve(lon, lat, at=days, accuracy_m=accuracy, generation=generation, state=state)
    resolution.verdict_table(memory_only=True)
    return len(part), time.perf_counter() - clock


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=5_000_000)
    parser.add_argument("--partition-rows", type=int, default=250_000)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "shaozi-bench-archive"))
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    parser.add_argument("--generation", default="beijing-demo")
    args = parser.parse_args()
    generation = Generation.objects.get(name=args.generation)
    folder = Path(args.dir) / f"archive-{args.points}"
    print(f"archive: {args.points:,} points in partitions of {args.partition_rows:,} → {folder}")
    files = generate(folder, args.points, args.partition_rows)
    size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e6
    print(f"  {files} files, {size:,.0f} MB")

    rows, seconds = ceiling(folder, generation)
    ceiling_rate = rows / seconds
    print(f"in-process ceiling (one partition, {rows:,} points, no IO): {seconds:.2f} s, {ceiling_rate:,.0f} points/s")

    rates = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        out = Path(args.dir) / f"out-{args.points}-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        with dask_client("local", workers=workers) as client:
            report = archive_resolve(archive=folder, generation=generation, out=out, client=client, progress=True)
            peaks = client.run(_peak_rss_mb)
        phase = report.seconds["workers"]
        rates[workers] = report.rows / phase
        print(
            f"\n{workers} worker(s): {report.rows:,} points in {phase:.1f} s (workers' phase) → "
            f"{rates[workers]:,.0f} points/s, {rates[workers] / workers:,.0f} per worker; "
            f"state {report.seconds['state']:.1f} s ({report.seconds['state_mb']} MB pickled); "
            f"database engine: {report.from_database:,} rows in {report.seconds.get('database_engine', 0):.1f} s; "
            f"total {report.seconds['total']:.1f} s"
        )
        print(f"  peak memory per worker (ru_maxrss): {', '.join(f'{v:,.0f} MB' for v in peaks.values())}")
        print(f"  verdicts by how: {dict(report.how)}")
        shutil.rmtree(out, ignore_errors=True)
    if 1 in rates and 2 in rates:
        print(f"\nscaling 2 workers / 1 worker: {rates[2] / rates[1]:.2f}×")
    for workers, rate in rates.items():
        print(f"{workers} worker(s): each worker at {rate / workers / ceiling_rate:.0%} of the in-process ceiling")


if __name__ == "__main__":
    main()
