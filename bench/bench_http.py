"""HTTP throughput and latency of the production server: single lookups, areas, a complaints tile.

Starts gunicorn as `make run` does (config/gunicorn.py, one worker per core) twice — once with the in-memory
engine (the default, SHAOZI_LOOKUP_ENGINE=memory) and once with every lookup through the database engine
(SHAOZI_LOOKUP_ENGINE=database, the ORM path) — drives each with `wrk` (Debian package `wrk`), and beside them
runs the same point-in-street question as a raw PostGIS query over a pool of connections. Rate limits are raised
for the run so that they do not answer 429. Nothing is written to the database but the demo, if it is missing.

    .venv/bin/python bench/bench_http.py [--seconds 10] [--connections 8] [--port 8760]

Prints p50 / p99 latency and requests per second per case, and the ratio memory : database for lookups.
Targets on 2 cores: lookup p50 ≤ 2 ms, p99 ≤ 10 ms, ≥ 1,500 requests/s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from geo import coords  # noqa: E402
from jurisdictions.models import Area, Building  # noqa: E402

PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")


def sample_points() -> dict[str, tuple[float, float, str]]:
    """Named (lon, lat, crs) cases: inside a street (WGS-84 and GCJ-02), on a shared edge, in a building."""
    street = Area.objects.current().of_level("street").get(code="110101001")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT (ST_MaximumInscribedCircle(ST_GeomFromEWKT(%s))).center c) s",
            [street.geom.ewkt],
        )
        lon, lat = cursor.fetchone()
        # A point on the line two streets share: the middle of their common boundary.
        cursor.execute(
            """
            SELECT ST_X(p), ST_Y(p) FROM (
              SELECT ST_LineInterpolatePoint(ST_GeometryN(ST_LineMerge(ST_Intersection(ST_Boundary(a.geom),
                     ST_Boundary(b.geom))), 1), 0.5) p
                FROM jurisdictions_area a JOIN jurisdictions_area b
                  ON a.code = '110102020' AND b.code = '110106002') s
            """
        )
        edge = cursor.fetchone()
    gx, gy = coords.wgs84_to_gcj02(lon, lat)
    building = Building.objects.get(code="SYN-B-0001").geom.point_on_surface
    return {
        "lookup inside (wgs84)": (lon, lat, "wgs84"),
        "lookup inside (gcj02)": (float(gx), float(gy), "gcj02"),
        "lookup on an edge": (edge[0], edge[1], "wgs84"),
        "lookup in a building": (building.x, building.y, "wgs84"),
    }


def tile_path(z: int, lon: float, lat: float) -> str:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/complaints/{z}/{x}/{y}.pbf"


def start_server(port: int, engine: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SHAOZI_LOOKUP_ENGINE": engine,
        "SHAOZI_RATE_ANON": "100000000/min",
        "SHAOZI_RATE_USER": "100000000/min",
        "SHAOZI_RATE_TILES": "100000000/min",
    }
    server = subprocess.Popen(
        [GUNICORN, "--config", "config/gunicorn.py", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer on port {port}")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def warm(url: str, workers: int) -> None:
    """Each worker loads its URLconf and engine before measuring (several requests reach every worker)."""
    for _ in range(workers * 8):
        urllib.request.urlopen(url, timeout=60).read()


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": latency("50%"),
        "p99": latency("99%"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def raw_postgis(points: list[tuple[float, float]], seconds: int, connections: int) -> dict:
    """The street covering each point, as one plain SQL query per request over a pool of open connections."""
    from psycopg2.pool import ThreadedConnectionPool

    settings = connection.settings_dict
    pool = ThreadedConnectionPool(
        connections,
        connections,
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
    )
    sql = """
        SELECT a.code, a.name FROM jurisdictions_areapiece p JOIN jurisdictions_area a ON a.id = p.area_id
         WHERE a.level = 'street' AND ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
         ORDER BY a.code LIMIT 1
    """
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        conn = pool.getconn()
        mine = []
        with conn.cursor() as cursor:
            k = i
            while time.perf_counter() < stop:
                lon, lat = points[k % len(points)]
                k += 1
                t = time.perf_counter()
                cursor.execute(sql, [lon, lat])
                cursor.fetchone()
                mine.append((time.perf_counter() - t) * 1000)
        pool.putconn(conn)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.closeall()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99)],
        "rps": len(latencies) / seconds,
        "errors": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8760)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    call_command("migrate", "--noinput", verbosity=0)
    call_command("demo_load", "--if-empty", verbosity=0)
    call_command("complaints_demo_load", "--if-empty", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    points = sample_points()
    workers = len(os.sched_getaffinity(0))
    print(f"gunicorn: {workers} workers × 4 threads; wrk: 2 threads, {args.connections} connections, {args.seconds} s")
    print(f"{'case':40} {'engine':9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'non-2xx':>8}")
    results: dict[tuple[str, str], dict] = {}
    for engine, port in (("memory", args.port), ("database", args.port + 1)):
        server = start_server(port, engine)
        try:
            base = f"http://127.0.0.1:{port}"
            cases = {name: f"/api/v1/jurisdiction?lon={x}&lat={y}&crs={crs}" for name, (x, y, crs) in points.items()}
            if engine == "memory":
                lon, lat, _ = points["lookup inside (wgs84)"]
                cases["areas level=district simplify=50"] = "/api/v1/areas?level=district&simplify=50"
                cases["complaints tile z14 (anonymous)"] = tile_path(14, lon, lat)
            for name, path in cases.items():
                warm(base + path, workers)
                result = wrk(base + path, args.seconds, args.connections)
                results[(name, engine)] = result
                print(
                    f"{name:40} {engine:9} {result['p50']:8.2f} {result['p99']:8.2f} {result['rps']:9.0f} "
                    f"{result['errors']:8d}",
                    flush=True,
                )
        finally:
            stop_server(server)
    inside = [(x, y) for name, (x, y, crs) in points.items() if crs == "wgs84"]
    raw = raw_postgis(inside, args.seconds, args.connections)
    print(
        f"{'raw PostGIS query, pooled connections':40} {'sql':9} {raw['p50']:8.2f} {raw['p99']:8.2f} {raw['rps']:9.0f}"
    )
    print("\nlookups, memory engine vs database engine (ORM path):")
    for name in points:
        fast, slow = results[(name, "memory")], results[(name, "database")]
        print(
            f"  {name:38} req/s × {fast['rps'] / slow['rps']:5.1f}   p50 {slow['p50'] / fast['p50']:5.1f}× lower   "
            f"target p50 ≤ 2 ms: {'met' if fast['p50'] <= 2 else 'missed'}, p99 ≤ 10 ms: "
            f"{'met' if fast['p99'] <= 10 else 'missed'}, ≥ 1,500 req/s: {'met' if fast['rps'] >= 1500 else 'missed'}"
        )


if __name__ == "__main__":
    main()
