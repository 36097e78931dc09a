"""Complaint archives: GeoParquet out and back in, whole archives resolved on Dask, the emerging cube on Dask.

The resolution test builds a synthetic archive over the Beijing demo (`SHAOZI_ARCHIVE_ROWS`, 20,000 rows by
default; 200,000 for the size the issue names) with points well inside streets, far outside, on street vertices,
in building footprints, under rules (in force, ended, not yet started on the row's day) and with accuracy circles,
and resolves it on a LocalCluster of two workers. Every row must get exactly the in-process engine's verdict
(`jurisdictions.engine.resolve`), once. Those workers run in this process (threads, `processes=False`): process
workers take seconds each to start and load Django here. The killed-worker test runs two process workers on 6,000
rows in 144 partitions, SIGKILLs one after the first parts are written, and checks the output (about 25 s;
`SHAOZI_ARCHIVE_KILL=0` skips it).
"""

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command

from archive.exporting import complaints_export
from archive.layout import ArchiveError, days_of, months_of
from archive.resolving import VERDICT_COLUMNS, archive_resolve
from complaints.models import Category, Complaint
from complaints.permissions import SYSTEM
from hotspots import demo
from hotspots.analysis import emerging as emerging_analysis
from hotspots.cube import archive_cube
from hotspots.models import AnalysisRun, EmergingCell
from hotspots.services import emerging_compute
from jurisdictions import engine, selectors
from jurisdictions.constants import Role
from jurisdictions.models import Area, Building, Generation, StaffProfile
from jurisdictions.services import rule_create

ROWS = int(os.environ.get("SHAOZI_ARCHIVE_ROWS", "20000"))
FIRST_DAY = dt.date(2025, 6, 1)
DAYS = 365
SHANGHAI = "Asia/Shanghai"


@pytest.fixture(scope="module")
def dask_cluster():
    """Two workers of one thread each, in this process, reachable over TCP (commands connect to its address)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def square_at(lon, lat, half_deg):
    return MultiPolygon(Polygon.from_bbox((lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)), srid=4326)


def make_rules() -> list[tuple[float, float]]:
    """A place rule in force from 2026-01-01, one that ended in 2025, and one on a building from 2025-10-01; returns
    the centres to scatter points around."""
    streets = Area.objects.current(dt.date(2026, 1, 1)).of_level("street").order_by("code")
    spot = streets[40].geom.point_on_surface
    lead = streets[41].code
    rule_create(
        lead_code=lead, geom=square_at(spot.x, spot.y, 0.003), valid_from=dt.date(2026, 1, 1), reason="r", author="t"
    )
    rule_create(
        lead_code=lead,
        geom=square_at(spot.x + 0.01, spot.y, 0.003),
        valid_from=dt.date(2025, 7, 1),
        valid_to=dt.date(2025, 9, 1),
        reason="ended",
        author="t",
    )
    building = Building.objects.order_by("code")[3]
    rule_create(lead_code=lead, building=building, valid_from=dt.date(2025, 10, 1), reason="b", author="t")
    centre = building.geom.point_on_surface
    return [(spot.x, spot.y), (spot.x + 0.01, spot.y), (centre.x, centre.y)]


def synthetic_rows(n: int, rng, rule_centres) -> pd.DataFrame:
    """Points of every kind the engine distinguishes, on days across a year, a share with accuracy circles."""
    parts = []
    urban = int(n * 0.7)
    parts.append(np.column_stack([rng.uniform(116.2, 116.6, urban), rng.uniform(39.75, 40.05, urban)]))
    wide = int(n * 0.1)
    parts.append(np.column_stack([rng.uniform(115.3, 117.6, wide), rng.uniform(39.3, 41.2, wide)]))
    streets = Area.objects.current(FIRST_DAY).of_level("street").values_list("geom", flat=True)
    coords = np.concatenate([shapely.get_coordinates(shapely.from_wkb(bytes(g.wkb))) for g in streets])
    parts.append(coords[rng.choice(len(coords), int(n * 0.02))])
    footprints = [shapely.from_wkb(bytes(b.geom.wkb)) for b in Building.objects.order_by("code")]
    inside = []
    while len(inside) < int(n * 0.08):
        geom = footprints[rng.integers(len(footprints))]
        x0, y0, x1, y1 = geom.bounds
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if geom.covers(shapely.Point(x, y)):
            inside.append((x, y))
    parts.append(np.array(inside))
    ruled = int(n * 0.025)
    centres = np.array(rule_centres)[rng.integers(len(rule_centres), size=ruled)]
    parts.append(centres + rng.normal(0, 0.002, (ruled, 2)))
    xy = np.concatenate(parts)
    rest = n - len(xy)
    xy = np.concatenate([xy, np.column_stack([rng.uniform(116.3, 116.5, rest), rng.uniform(39.85, 39.98, rest)])])
    xy = xy[rng.permutation(n)]
    accuracy = np.full(n, np.nan)
    circled = rng.random(n) < 0.08
    accuracy[circled] = rng.choice([5.0, 30.0, 120.0, 800.0], circled.sum())
    seconds = rng.integers(0, DAYS * 86400, n)
    local = pd.Timestamp(FIRST_DAY, tz=SHANGHAI) + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame(
        {
            "complaint_id": np.arange(1, n + 1, dtype=np.int64),
            "external_id": [f"arch-{i}" for i in range(1, n + 1)],
            "received_at": pd.Series(local).dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
            "accuracy_m": accuracy,
            "lon": xy[:, 0],
            "lat": xy[:, 1],
        }
    )


def engine_answers(frame: pd.DataFrame, generation) -> dict:
    """The in-process engine's verdict columns for the frame's rows (the reference)."""
    resolution = engine.resolve(
        frame["lon"].to_numpy(),
        frame["lat"].to_numpy(),
        at=days_of(frame["received_at"]),
        accuracy_m=frame["accuracy_m"].to_numpy(),
        generation=generation,
    )
    return resolution.verdict_table()


def write_archive(path: Path, frame: pd.DataFrame, files_per_month: int) -> int:
    """Write the frame as a month-partitioned GeoParquet archive, several files per month; returns the files."""
    files = 0
    months = months_of(frame["received_at"])
    for month in sorted(set(months)):
        rows = frame[months == month]
        folder = path / f"month={month}"
        folder.mkdir(parents=True)
        for i, chunk in enumerate(np.array_split(np.arange(len(rows)), files_per_month)):
            part = rows.iloc[chunk]
            geometry = shapely.points(part["lon"].to_numpy(), part["lat"].to_numpy())
            gpd.GeoDataFrame(part.drop(columns=["lon", "lat"]), geometry=geometry, crs="EPSG:4326").to_parquet(
                folder / f"part-{i:03d}.parquet", index=False
            )
            files += 1
    return files


_CASES: dict = {}


@pytest.fixture
def archive_case(db):
    """A synthetic archive with stored verdicts (the engine's, with 3 % of streets deliberately different).

    The rules are made again in each test's transaction; the rows and the engine's answers are computed once per
    run (the same rules give the same answers)."""
    rules = make_rules()
    generation = Generation.objects.get(name="beijing-demo")
    if ROWS in _CASES:
        frame, expected = _CASES[ROWS]
        return frame.copy(), expected, generation
    rng = np.random.default_rng(20261202)
    frame = synthetic_rows(ROWS, rng, rules)
    expected = engine_answers(frame, generation)
    stored = expected["street_code"].copy()
    names = expected["street_name"].copy()
    changed = rng.random(ROWS) < 0.03
    codes = sorted(set(stored[stored != ""]))
    stored[changed] = rng.choice(codes, changed.sum())
    names[changed] = "旧街道 stored"
    frame["street_code"] = stored.astype(str)
    frame["street_name"] = names.astype(str)
    _CASES[ROWS] = frame, expected
    return frame.copy(), expected, generation


def read_verdicts(out: Path) -> pd.DataFrame:
    got = pd.read_parquet(out / "verdicts")
    return got.sort_values("complaint_id").reset_index(drop=True)


def assert_same_as_engine(got: pd.DataFrame, frame: pd.DataFrame, expected: dict) -> None:
    assert len(got) == len(frame)
    assert got["complaint_id"].is_unique
    assert (got["complaint_id"].to_numpy() == frame["complaint_id"].to_numpy()).all()
    for name in VERDICT_COLUMNS:
        values = got[name].to_numpy()
        want = expected[name]
        differ = np.flatnonzero(values.astype(str) != want.astype(str))
        assert not len(differ), (
            name,
            len(differ),
            got.iloc[differ[:3]].to_dict("records"),
            {k: v[differ[:3]] for k, v in expected.items()},
        )


def test_an_archive_resolved_on_two_workers_gets_exactly_the_engines_verdicts(archive_case, tmp_path, dask_cluster):
    frame, expected, generation = archive_case
    archive = tmp_path / "archive"
    files = write_archive(archive, frame, files_per_month=2)
    out = tmp_path / "out"

    report = archive_resolve(archive=archive, generation=generation, out=out, client=dask_cluster, progress=False)

    got = read_verdicts(out)
    assert_same_as_engine(got, frame, expected)
    assert report.rows == ROWS and report.partitions == files == 24
    # Every kind of row is there: inside, building, rule, near a boundary or with a circle reaching one, away.
    how = got["how"].value_counts()
    for kind in ("inside", "building", "rule", "near", "away"):
        assert how.get(kind, 0) > 0, how
    assert report.from_database == int(got["how"].isin(["rule", "near", "outside", "none"]).sum())
    assert report.from_database < ROWS // 4
    # The engine's state reached each worker once (a plugin loaded on setup), not once per partition.
    assert list(report.worker_loads.values()) == [1, 1]
    # Rows of each kind the database engine or the buildings decide equal `selectors.jurisdiction_lookup`.
    by_id = frame.set_index("complaint_id")
    for kind in ("building", "rule", "near"):
        sample = got[got["how"] == kind].head(15)
        for row in sample.itertuples():
            source = by_id.loc[row.complaint_id]
            accuracy = None if np.isnan(source.accuracy_m) else float(source.accuracy_m)
            verdict = selectors.jurisdiction_lookup(
                point=Point(source.lon, source.lat, srid=4326),
                at=days_of(pd.Series([source.received_at]))[0].astype(object),
                accuracy_m=accuracy,
                generation=generation,
            )
            assert (row.method, row.street_code, row.needs_review) == (
                verdict.method,
                verdict.street.code if verdict.street else "",
                verdict.needs_review,
            ), (kind, row)
            assert row.lead_code == (verdict.lead.code if verdict.lead else "")
    # What moved: the rows whose stored street differs from the engine's, per street and in pairs.
    moved = frame["street_code"].to_numpy() != expected["street_code"]
    assert report.moved == int(moved.sum()) == int(got["moved"].sum()) > 0
    moves = pd.read_csv(out / "moves.csv", dtype={"street_code": str}, keep_default_na=False)
    assert moves["stored"].sum() == moves["resolved"].sum() == ROWS
    assert moves["moved_out"].sum() == moves["moved_in"].sum() == report.moved
    transfers = pd.read_csv(out / "transfers.csv", dtype=str, keep_default_na=False)
    assert transfers["rows"].astype(int).sum() == report.moved


def test_archive_resolve_refuses_a_used_output_folder_and_a_missing_archive(db, tmp_path, dask_cluster):
    generation = Generation.objects.get(name="beijing-demo")
    used = tmp_path / "used"
    used.mkdir()
    (used / "x.txt").write_text("x")
    with pytest.raises(ArchiveError):
        archive_resolve(archive=tmp_path, generation=generation, out=used, client=dask_cluster, progress=False)
    with pytest.raises(ArchiveError):
        archive_resolve(
            archive=tmp_path / "nowhere", generation=generation, out=tmp_path / "o", client=dask_cluster, progress=False
        )


def test_the_command_resolves_on_a_given_scheduler(archive_case, tmp_path, dask_cluster):
    frame, expected, _ = archive_case
    small = frame.head(3000)
    archive = tmp_path / "archive"
    write_archive(archive, small, files_per_month=1)
    out = tmp_path / "out"
    address = dask_cluster.scheduler.address
    call_command(
        "archive_resolve",
        str(archive),
        str(out),
        "--generation",
        "beijing-demo",
        "--scheduler",
        address,
        "--no-progress",
    )
    got = read_verdicts(out)
    assert_same_as_engine(got, small, {k: v[:3000] for k, v in expected.items()})


@pytest.mark.skipif(os.environ.get("SHAOZI_ARCHIVE_KILL") == "0", reason="SHAOZI_ARCHIVE_KILL=0")
def test_a_worker_killed_mid_run_is_replaced_and_the_output_is_complete_once(archive_case, tmp_path):
    from distributed import Client, LocalCluster

    frame, expected, generation = archive_case
    frame, expected = frame.head(6000), {k: v[:6000] for k, v in expected.items()}
    archive = tmp_path / "archive"
    files = write_archive(archive, frame, files_per_month=12)
    out = tmp_path / "out"
    seen = {}
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        done = threading.Event()

        def kill_one_worker_once_some_parts_are_written():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not done.is_set():
                written = list((out / "verdicts").rglob("part-*.parquet")) if (out / "verdicts").exists() else []
                if len(written) >= 3:
                    seen["written"] = len(written)
                    os.kill(next(iter(pids.values())), signal.SIGKILL)
                    return
                time.sleep(0.02)

        # The run stays in this thread: it must see this test's rules (its transaction is this thread's connection).
        killer = threading.Thread(target=kill_one_worker_once_some_parts_are_written)
        killer.start()
        try:
            report = archive_resolve(archive=archive, generation=generation, out=out, client=client, progress=False)
        finally:
            done.set()
            killer.join()
        after = client.run(os.getpid)
    assert "written" in seen and seen["written"] < files, seen
    assert set(after.values()) != set(pids.values())  # the nanny started a new worker process
    assert report.rows == len(frame) and report.partitions == files
    got = read_verdicts(out)
    assert_same_as_engine(got, frame, expected)
    assert not list(out.rglob(".*.tmp"))


# --- export and import -------------------------------------------------------------------------------------------


def complaints_csv(path: Path, rng, n: int) -> Path:
    leaves = list(Category.objects.leaves().active().values_list("code", flat=True)[:12])
    rows = []
    for i in range(n):
        lon, lat = rng.uniform(116.25, 116.55), rng.uniform(39.8, 40.02)
        crs = "gcj02" if i % 7 == 0 else ""
        if crs:
            lon, lat = lon + 0.0061, lat + 0.0013
        accuracy = f"{rng.choice([5, 40, 300])}" if i % 5 == 0 else ""
        status = ["", "closed", "resolved", "in_progress"][i % 4]
        rows.append(
            {
                "external_id": f"rt-{i}",
                "received_at": f"2026-0{1 + i % 5}-1{i % 9}T0{i % 10}:15:0{i % 10}.{i:06d}+08:00",
                "category": leaves[i % len(leaves)],
                "lon": repr(lon),
                "lat": repr(lat),
                "crs": crs,
                "accuracy_m": accuracy,
                "description": f"第 {i} 条【合成演示数据 synthetic】, “quoted”",
                "address": f"测试路 {i} 号",
                "status": status,
                "satisfaction": "satisfied" if status == "closed" else "",
                "confidence": "0.5" if i % 3 == 0 else "",
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


FIELDS = (
    "external_id",
    "channel",
    "received_at",
    "category_id",
    "urgency",
    "description",
    "address",
    "location_source",
    "accuracy_m",
    "confidence",
    "status",
    "satisfaction",
    "deadline_at",
    "verdict_method",
    "generation_name",
    "district_code",
    "street_code",
    "lead_code",
    "needs_review",
)


def snapshot() -> dict[str, tuple]:
    return {
        c.external_id: (*(getattr(c, f) for f in FIELDS), c.location.x, c.location.y)
        for c in Complaint.objects.filter(external_id__startswith="rt-")
    }


def test_export_then_import_gives_back_the_same_complaints(db, tmp_path):
    rng = np.random.default_rng(5)
    call_command("complaints_import", str(complaints_csv(tmp_path / "in.csv", rng, 300)), "--no-progress")
    before = snapshot()
    assert len(before) == 300
    out = tmp_path / "archive"
    call_command("complaints_export", "--format", "geoparquet", str(out), "--chunk-rows", "70", "--no-progress")

    parts = sorted(out.rglob("*.parquet"))
    assert {p.parent.name for p in parts} >= {f"month=2026-0{m}" for m in range(1, 6)}
    geo = pq.read_schema(parts[0]).metadata[b"geo"].decode()
    assert '"primary_column": "geometry"' in geo and '"code": 4326' in geo
    exported = pd.read_parquet(out)
    mine = exported[exported["external_id"].str.startswith("rt-")]
    assert len(mine) == 300 and exported["complaint_id"].is_unique
    assert {"category_l1", "category_l2", "street_code", "method", "needs_review"} <= set(exported.columns)
    assert (mine["category_l1"].str.len() == 2).all() and (mine["category_l2"].str.len() == 4).all()

    Complaint.objects.filter(external_id__startswith="rt-").delete()
    call_command("complaints_import", str(out), "--no-progress")
    after = snapshot()
    assert after == before
    # Importing the archive again stores nothing twice (idempotent on external ids).
    call_command("complaints_import", str(out), "--no-progress")
    assert Complaint.objects.filter(external_id__startswith="rt-").count() == 300


def test_export_holds_only_what_the_caller_may_read(db, tmp_path):
    rng = np.random.default_rng(6)
    call_command("complaints_import", str(complaints_csv(tmp_path / "in.csv", rng, 120)), "--no-progress")
    district = Complaint.objects.filter(external_id__startswith="rt-").exclude(district_code="")[0].district_code
    user = User.objects.create_user("archive-district")
    StaffProfile.objects.create(user=user, role=Role.DISTRICT, district_code=district)
    complaints_export(out=tmp_path / "mine", by=user)
    complaints_export(out=tmp_path / "all", by=SYSTEM)
    mine = pd.read_parquet(tmp_path / "mine")
    everything = pd.read_parquet(tmp_path / "all")
    assert 0 < len(mine) < len(everything)
    assert (mine["district_code"] == district).all()
    with pytest.raises(TypeError):
        complaints_export(out=tmp_path / "none", by=None)
    with pytest.raises(ArchiveError):
        complaints_export(out=tmp_path / "all", by=SYSTEM)  # not over an existing archive


# --- the emerging cube on Dask -------------------------------------------------------------------------------------


def test_the_emerging_cube_counted_on_dask_gives_the_in_process_result(db, tmp_path, dask_cluster):
    start, weeks = demo.DEMO_START, demo.DEMO_WEEKS
    frame = demo.synthetic_complaints(background=4000, streets=False)
    # The demo's period only (its history years are for other layers): one partition per month.
    frame = frame[frame["received_at"] >= pd.Timestamp(start, tz=SHANGHAI) - pd.Timedelta(days=1)]
    archive = tmp_path / "archive"
    archive_frame = pd.DataFrame(
        {
            "received_at": frame["received_at"].astype("datetime64[us, UTC]"),
            "category": frame["category_code"],
            "lon": frame["lon"],
            "lat": frame["lat"],
        }
    )
    write_archive(archive, archive_frame, files_per_month=1)
    origin = pd.Timestamp(start, tz=SHANGHAI)

    counts = archive_cube(archive, start=start, n_steps=weeks, client=dask_cluster)
    dasked = emerging_analysis.emerging_from_counts(
        counts["cell"], counts["step"], counts["count"], start=origin, n_steps=weeks
    )
    local = emerging_analysis.emerging_hot_spots(
        frame["lon"], frame["lat"], frame["received_at"], start=origin, n_steps=weeks
    )
    assert dasked.settings == local.settings
    pd.testing.assert_frame_equal(dasked.cells.drop(columns="z_series"), local.cells.drop(columns="z_series"))
    assert all(np.array_equal(a, b) for a, b in zip(dasked.cells["z_series"], local.cells["z_series"], strict=True))
    assert (local.cells["pattern"] != "none").any()

    # Through the command (the same archive, on the same cluster) and the stored run of the in-process service.
    last = AnalysisRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    call_command(
        "hotspots_compute",
        str(archive),
        "--engine",
        "dask",
        "--scheduler",
        dask_cluster.scheduler.address,
        "--start",
        start.isoformat(),
        "--weeks",
        str(weeks),
    )
    (dask_run_id,) = AnalysisRun.objects.filter(pk__gt=last).values_list("pk", flat=True)
    local_run_id = emerging_compute(frame=frame, start=start, n_steps=weeks).pk

    def cells(run_id):
        return sorted(
            EmergingCell.objects.filter(run_id=run_id).values_list("h3", "pattern", "count", "hot_steps", "z_series")
        )

    assert cells(dask_run_id) == cells(local_run_id)
    # A category filter is a code prefix, as in the in-process run.
    code = frame["category_code"].iloc[0][:2]
    part = archive_cube(archive, start=start, n_steps=weeks, category=code, client=dask_cluster)
    assert (
        part["count"].sum()
        == (
            frame["category_code"].str.startswith(code)
            & (emerging_analysis.time_steps(frame["received_at"], start=origin) >= 0)
            & (emerging_analysis.time_steps(frame["received_at"], start=origin) < weeks)
        ).sum()
    )
