"""How a complaint archive lies on disk, and reading it with dask-geopandas.

An archive is a folder of GeoParquet files partitioned Hive-style by the Beijing month a complaint was received
(`month=2026-11/part-000012.parquet`), geometry in WGS-84 (EPSG:4326) with GeoParquet metadata in every file, and a
small manifest `_archive.json` (readers skip files starting with `_` or `.`). Every part file holds at most one
export chunk, so a Dask partition (one file) stays small whatever the archive's size.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

PARTITION = "month"
MANIFEST = "_archive.json"
LOCAL_TZ = "Asia/Shanghai"

# The columns of an exported archive (besides `geometry` and the `month` partition), in file order.
COLUMNS = (
    "complaint_id",
    "external_id",
    "received_at",
    "channel",
    "category",  # 小类, the leaf code bulk intake reads
    "category_name",
    "category_l2",  # 中类
    "category_l2_name",
    "category_l1",  # 大类
    "category_l1_name",
    "urgency",
    "status",
    "satisfaction",
    "description",
    "address",
    "location_source",
    "input_crs",  # the coordinates as the complaint gave them (the geometry is their WGS-84 conversion)
    "input_lon",
    "input_lat",
    "accuracy_m",
    "confidence",
    "deadline_at",
    "resolved_at",
    "closed_at",
    # The stored verdict.
    "generation",
    "method",
    "district_code",
    "district_name",
    "street_code",
    "street_name",
    "lead_code",
    "lead_name",
    "needs_review",
)


class ArchiveError(Exception):
    """The archive (or the output folder) cannot be used as asked."""


def months_of(received_at: pd.Series) -> np.ndarray:
    """The Beijing month ("2026-11") of each UTC timestamp."""
    local = pd.to_datetime(received_at, utc=True).dt.tz_convert(LOCAL_TZ)
    return local.dt.strftime("%Y-%m").to_numpy(dtype=object)


def days_of(received_at: pd.Series) -> np.ndarray:
    """The Beijing date of each UTC timestamp, as datetime64[D] (the day the engine answers for)."""
    local = pd.to_datetime(received_at, utc=True).dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def empty_folder(path: Path, what: str) -> Path:
    """`path` as a new or empty folder; an archive or result is never written over another."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ArchiveError(f"{what} 须为空目录 must be a new or empty folder: {path}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def part_path(root: Path, month: str, name: str) -> Path:
    folder = Path(root) / f"{PARTITION}={month}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def write_atomically(path: Path, write) -> None:
    """Write through a hidden temporary file then rename it: a task killed mid-write leaves no part behind, and a
    task run again (a Dask retry) replaces its own file instead of adding a second one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_manifest(root: Path, manifest: dict) -> None:
    text = json.dumps(manifest, ensure_ascii=False, indent=1, default=str)
    write_atomically(Path(root) / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_manifest(root: Path) -> dict:
    path = Path(root) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def read_archive(path, columns: list[str] | None = None):
    """The archive as a dask-geopandas GeoDataFrame, one partition per part file (lazy: nothing is read here).

    `columns`: the columns to read (the geometry is always read); the `month` partition column comes along.
    """
    import dask_geopandas

    path = Path(path)
    if not path.exists():
        raise ArchiveError(f"找不到档案 archive not found: {path}")
    try:
        frame = dask_geopandas.read_parquet(str(path), columns=columns)
    except (ValueError, OSError) as exc:
        raise ArchiveError(f"无法读取档案 cannot read the archive {path}: {exc}") from exc
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        raise ArchiveError(f"档案须为 WGS-84 the archive must be in EPSG:4326, not {frame.crs.to_string()}")
    return frame
