"""A whole archive resolved against one boundary generation on Dask (档案归属重判), with what moved per street.

The client builds the jurisdiction engine's in-memory state once (`jurisdictions.engine.EngineState`, prepared for
the generation: the point index over its subdivided streets, its boundary lines and districts, the rules grouped
by validity, the building footprints and their shares), pickles it once, and ships it to every worker once as a
worker plugin (`EnginePlugin`) — the scheduler keeps the plugin, so a worker that joins or is restarted after a
crash loads it too. Each partition (one part file) is then resolved on a worker with the engine's one entry
point, `jurisdictions.engine.resolve(…, state=…)`:

- rows the engine answers from memory (well inside one street, in a building footprint with shares, far from
  every area) get their verdict there and are written to `OUT/verdicts/month=…/part-NNNNNN.parquet`; the worker
  never touches a database (any query raises);
- rows that need the database engine (a rule in force on the row's day, within a centimetre of a boundary, an
  accuracy circle that reaches one, a gap between streets) come back to the client, which has the database, and
  are resolved there with the same `resolve` and written to `OUT/verdicts/month=…/engine-NNNNNN.parquet`.

So every row gets exactly `jurisdictions.engine.resolve`'s verdict. Part files are named by partition and
written through a temporary file, so a task that Dask runs again after a worker died replaces its own output:
nothing is lost or written twice. `OUT/moves.csv` sums, per street, the rows the archive's stored verdicts gave
it and the rows it has now; `OUT/transfers.csv` lists every (stored street → new street) pair that moved.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import pickle
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from distributed.diagnostics.plugin import WorkerPlugin

from .cluster import django_ready
from .layout import (
    PARTITION,
    ArchiveError,
    days_of,
    empty_folder,
    months_of,
    part_path,
    read_archive,
    write_atomically,
    write_manifest,
)

PLUGIN = "shaozi-engine"
# What a resolution reads from the archive: ids, the day, the accuracy circle, the stored street, the point.
READ_COLUMNS = ["complaint_id", "external_id", "received_at", "accuracy_m", "street_code", "street_name", "geometry"]
VERDICTS = "verdicts"
# The verdict columns written per row (besides the ids, the stored street and `moved`).
VERDICT_COLUMNS = (
    "generation",
    "district_code",
    "district_name",
    "street_code",
    "street_name",
    "lead_code",
    "lead_name",
    "method",
    "how",
    "needs_review",
)
NO_POINT = "no_point"  # `how` of a row without a usable point (no verdict)


class EnginePlugin(WorkerPlugin):
    """The engine's state for one generation, loaded once on each worker (`setup`), also on workers that join or
    restart later. `payload` is the pickled (EngineState, Generation); `loads` counts how often this worker
    unpickled it (once)."""

    name = PLUGIN

    def __init__(self, payload: bytes, settings_module: str | None):
        self.payload = payload
        self.settings_module = settings_module
        self.state = None
        self.generation = None
        self.loads = 0

    def setup(self, worker) -> None:
        django_ready(self.settings_module)
        # Arrow's default pool (mimalloc) keeps what partition after partition freed (about 13 MB more per
        # partition of 250,000 rows, in one process); the system allocator hands it back (docs/scale.md).
        import pyarrow

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
        self.state, self.generation = pickle.loads(self.payload)
        self.loads += 1

    def teardown(self, worker) -> None:
        self.state = self.generation = None


def _refuse_database(execute, sql, params, many, context):
    raise ArchiveError(f"档案工作进程不读数据库 an archive worker must not query the database: {sql[:120]}")


def _plugin_loads(dask_worker) -> int:
    plugin = dask_worker.plugins.get(PLUGIN)
    return plugin.loads if plugin is not None else 0


def resolve_partition(part, number: int, *, out: str, at: str | None) -> dict:
    """Resolve one partition on a worker (a Dask task): write the rows answered from memory, return the others.

    Returns `rows`, `how` (a Counter), `pending` (a frame of the rows for the database engine: ids, point, day,
    accuracy, stored street) and `moves` (rows per stored street → new street, for the rows written here).
    """
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN]
    django_ready(plugin.settings_module)
    from django.db import connections

    try:
        with connections["default"].execute_wrapper(_refuse_database):
            return _resolve_part(part, number, plugin.state, plugin.generation, Path(out), at)
    finally:
        _give_back_memory()


def _give_back_memory() -> None:
    """Return the freed heap of a partition to the system (glibc's malloc_trim; a no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _points(part) -> tuple[np.ndarray, np.ndarray]:
    geoms = np.asarray(part.geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    lon[is_point] = shapely.get_x(geoms[is_point])
    lat[is_point] = shapely.get_y(geoms[is_point])
    return lon, lat


def _base(part) -> pd.DataFrame:
    """Ids, month, day, accuracy and stored street of each row (missing archive columns read as empty)."""
    n = len(part)
    # Columns are taken as Series on a fresh index: converting text or tz-aware times through numpy object arrays
    # cost more than resolving the points.
    part = pd.DataFrame(part.drop(columns=part.geometry.name)).reset_index(drop=True)
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame["complaint_id"] = part["complaint_id"] if "complaint_id" in part else -1
    frame["external_id"] = part["external_id"].fillna("").astype(str) if "external_id" in part else ""
    received = part["received_at"] if "received_at" in part else None
    if PARTITION in part:
        frame[PARTITION] = part[PARTITION].astype(str)
    elif received is not None:
        frame[PARTITION] = months_of(received)
    else:
        frame[PARTITION] = "unknown"
    frame["day"] = days_of(received) if received is not None else np.datetime64("NaT", "D")
    frame["accuracy_m"] = part["accuracy_m"].astype(np.float64) if "accuracy_m" in part else np.nan
    for name in ("street_code", "street_name"):
        frame[f"stored_{name}"] = part[name].fillna("").astype(str) if name in part else ""
    return frame


def _resolve_part(part, number, state, generation, out: Path, at: str | None) -> dict:
    from jurisdictions import engine

    frame = _base(part)
    frame["lon"], frame["lat"] = _points(part)
    if at is not None:
        frame["day"] = np.datetime64(at, "D")
    valid = np.isfinite(frame["lon"].to_numpy()) & np.isfinite(frame["lat"].to_numpy()) & frame["day"].notna()
    rows = frame[valid.to_numpy()]
    resolution = engine.resolve(
        rows["lon"].to_numpy(),
        rows["lat"].to_numpy(),
        at=rows["day"].to_numpy(dtype="datetime64[D]"),
        accuracy_m=rows["accuracy_m"].to_numpy(),
        generation=generation,
        state=state,
    )
    table = resolution.verdict_table(memory_only=True)
    pending = resolution.needs_database
    done = rows[~pending].copy()
    for name in VERDICT_COLUMNS:
        done[name] = table[name][~pending]
    lost = frame[~valid.to_numpy()].copy()
    for name in VERDICT_COLUMNS:
        lost[name] = False if name == "needs_review" else ""
    lost["needs_review"] = True
    lost["how"] = NO_POINT
    written = pd.concat([done, lost], ignore_index=True) if len(lost) else done
    how = Counter(written["how"].tolist())
    moves = write_verdicts(written, out, f"part-{number:06d}.parquet")
    keep = ["complaint_id", "external_id", PARTITION, "day", "lon", "lat", "accuracy_m", "stored_street_code"]
    return {
        "rows": len(frame),
        "how": how,
        "pending": rows[pending][[*keep, "stored_street_name"]].reset_index(drop=True),
        "moves": moves,
    }


def write_verdicts(frame: pd.DataFrame, out: Path, name: str) -> pd.DataFrame:
    """Write verdict rows as one file per month (`out/month=…/name`); returns rows per (stored → new street)."""
    frame = frame.assign(moved=frame["stored_street_code"] != frame["street_code"])
    columns = ["complaint_id", "external_id", *VERDICT_COLUMNS, "stored_street_code", "moved"]
    for month, rows in frame.groupby(PARTITION, sort=False):
        rows = rows[columns].reset_index(drop=True)
        write_atomically(part_path(out, month, name), lambda tmp, rows=rows: rows.to_parquet(tmp, index=False))
    return (
        frame.groupby(["stored_street_code", "stored_street_name", "street_code", "street_name"], dropna=False)
        .size()
        .rename("rows")
        .reset_index()
    )


@dataclass
class ResolveReport:
    """What `archive_resolve` did."""

    out: Path
    generation: str
    rows: int = 0
    partitions: int = 0
    workers: int = 0
    from_database: int = 0
    moved: int = 0
    how: Counter = field(default_factory=Counter)
    worker_loads: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def summary(self) -> str:
        hows = ", ".join(f"{k} {v}" for k, v in sorted(self.how.items()))
        return (
            f"{self.rows} 行 rows in {self.partitions} partitions on {self.workers} workers against {self.generation}: "
            f"{self.from_database} by the database engine; {self.moved} moved street ({hows}) → {self.out}"
        )


def archive_resolve(
    *,
    archive: str | Path,
    generation,
    out: str | Path,
    client,
    at: dt.date | None = None,
    progress: bool = True,
) -> ResolveReport:
    """Resolve every row of the archive against `generation` (rules as of each row's Beijing day, or all on `at`)
    on the Dask cluster of `client`, and write the verdicts and the per-street moves to the new folder `out`."""
    from distributed import progress as progress_bar
    from django.conf import settings

    from jurisdictions import engine

    started = time.perf_counter()
    out = empty_folder(Path(out), "输出目录 the output folder")
    verdicts = out / VERDICTS
    frame = read_archive(archive, columns=READ_COLUMNS)
    report = ResolveReport(out=out, generation=generation.name, partitions=frame.npartitions)
    # The state is built (or taken from this process) once, prepared for the generation, and pickled once.
    state = engine.engine_state().prepare(generation)
    payload = pickle.dumps((state, generation), protocol=pickle.HIGHEST_PROTOCOL)
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE
    report.seconds["state"] = round(time.perf_counter() - started, 2)
    report.seconds["state_mb"] = round(len(payload) / 1e6, 1)
    client.register_plugin(EnginePlugin(payload, settings_module), name=PLUGIN)
    try:
        import dask

        task = dask.delayed(resolve_partition, pure=False)
        day = at.isoformat() if at is not None else None
        futures = client.compute(
            [task(part, i, out=str(verdicts), at=day) for i, part in enumerate(frame.to_delayed())]
        )
        if progress:
            progress_bar(futures)
        results = client.gather(futures)
        report.worker_loads = client.run(_plugin_loads)
    finally:
        client.unregister_worker_plugin(PLUGIN)
    report.workers = len(report.worker_loads)
    report.seconds["workers"] = round(time.perf_counter() - started - report.seconds["state"], 2)
    moves = [r["moves"] for r in results]
    for r in results:
        report.rows += r["rows"]
        report.how.update(r["how"])
    pending = pd.concat([r["pending"] for r in results], ignore_index=True) if results else pd.DataFrame()
    report.from_database = len(pending)
    if len(pending):
        clock = time.perf_counter()
        resolution = engine.resolve(
            pending["lon"].to_numpy(),
            pending["lat"].to_numpy(),
            at=pending["day"].to_numpy(dtype="datetime64[D]"),
            accuracy_m=pending["accuracy_m"].to_numpy(),
            generation=generation,
        )
        table = resolution.verdict_table()
        for name in VERDICT_COLUMNS:
            pending[name] = table[name]
        report.how.update(pending["how"].tolist())
        moves.append(write_verdicts(pending, verdicts, "engine-000000.parquet"))
        report.seconds["database_engine"] = round(time.perf_counter() - clock, 2)
    report.moved = _write_moves(out, moves)
    report.seconds["total"] = round(time.perf_counter() - started, 2)
    write_manifest(
        out,
        {
            "what": "shaozi archive resolution 档案归属重判",
            "archive": str(archive),
            "generation": generation.name,
            "at": at,
            "rows": report.rows,
            "from_database": report.from_database,
            "moved": report.moved,
            "how": dict(report.how),
            "partitions": report.partitions,
            "workers": report.workers,
            "seconds": report.seconds,
        },
    )
    return report


def _write_moves(out: Path, moves: list[pd.DataFrame]) -> int:
    """`moves.csv` (per street: stored, resolved, kept, moved in and out) and `transfers.csv` (stored → new pairs
    that differ); returns the number of rows whose street moved."""
    keys = ["stored_street_code", "stored_street_name", "street_code", "street_name"]
    pairs = pd.concat(moves, ignore_index=True) if moves else pd.DataFrame(columns=[*keys, "rows"])
    pairs = pairs.groupby(keys, dropna=False, as_index=False)["rows"].sum()
    names = dict(zip(pairs["stored_street_code"], pairs["stored_street_name"], strict=True))
    names.update(zip(pairs["street_code"], pairs["street_name"], strict=True))
    stored = pairs.groupby("stored_street_code")["rows"].sum()
    resolved = pairs.groupby("street_code")["rows"].sum()
    kept = pairs[pairs["stored_street_code"] == pairs["street_code"]].groupby("street_code")["rows"].sum()
    codes = sorted(set(stored.index) | set(resolved.index))
    summary = pd.DataFrame({"street_code": codes})
    summary["street_name"] = summary["street_code"].map(names).fillna("")
    summary["stored"] = summary["street_code"].map(stored).fillna(0).astype(int)
    summary["resolved"] = summary["street_code"].map(resolved).fillna(0).astype(int)
    summary["kept"] = summary["street_code"].map(kept).fillna(0).astype(int)
    summary["moved_out"] = summary["stored"] - summary["kept"]
    summary["moved_in"] = summary["resolved"] - summary["kept"]
    summary["net"] = summary["resolved"] - summary["stored"]
    summary.to_csv(out / "moves.csv", index=False)
    transfers = pairs[pairs["stored_street_code"] != pairs["street_code"]].sort_values(
        ["rows", "stored_street_code", "street_code"], ascending=[False, True, True]
    )
    transfers.to_csv(out / "transfers.csv", index=False)
    return int(transfers["rows"].sum())
