"""Bulk intake (批量导入) of complaint files — CSV, GeoJSON, GeoPackage — up to millions of rows.

How it stays correct:
- Each batch is one transaction: its complaints, their history and assignments, its bad-row report and the
  import's counters commit together or not at all. Killing the import loses at most the batch in flight.
- Idempotent on external ids: INSERT … ON CONFLICT (external_id) DO NOTHING, so re-running a file after a
  crash (or twice) finishes it without duplicates.
- Bad rows are found by vectorised validation before anything is written and reported by 1-based row number
  (header not counted); good neighbours are written. Should the database still refuse a batch, it is split in
  halves (savepoints) until the refusing rows are isolated and reported; the rest is written.

How it is fast: validation, coordinate conversion (geo.coords, vectorised), generation choice and deadlines
(working-day calendar, vectorised) run on numpy arrays; the verdict comes from the jurisdiction engine's one
entry point (`jurisdictions.engine.resolve`, in process, for the whole batch); rows go to a temporary table by
COPY; then one INSERT … SELECT writes complaints, history and assignments.

Bulk rows get the engine's verdict, as single intake does. Most are decided by geometry alone (well inside one
street); rows under a rule in force on their day, in a building footprint, on or within a centimetre of a
boundary, whose accuracy circle reaches a boundary, or outside every area get the engine's full verdict (a
straddling building's lead by share with copies to its co-handlers). Repeats are not linked at bulk intake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg2
import shapely
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from config.limits import clean_text, date_bounds, limit
from geo import coords
from jurisdictions import engine
from jurisdictions.models import Department, Generation

from . import cells
from .constants import Channel, ImportState, LocationSource, Satisfaction, Status, Urgency
from .deadlines import WorkCalendar
from .models import Assignment, BulkImport, BulkRowError, Category, Complaint, StatusChange
from .permissions import bulk_scope
from .services import actor

FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
DEFAULT_BATCH = 50_000
MAX_TEXT = {"external_id": 64, "address": 300}
Progress = Callable[[int], None]


class BulkImportError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, missing columns)."""


# --- reading -----------------------------------------------------------------------------------------------------


def file_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in set(FORMATS.values()):
            raise BulkImportError(f"不支持的格式 unsupported format {declared!r}; use csv, geojson or gpkg")
        return declared
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise BulkImportError(
            f"不支持的文件类型 unsupported file type {path.suffix!r}: use .csv, .geojson, .gpkg"
        ) from None


def read_chunks(path: Path, fmt: str, batch_size: int) -> Iterator[pd.DataFrame]:
    """Chunks of the file as string columns (lon/lat from point geometries for spatial formats)."""
    if fmt == "csv":
        try:
            reader = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                chunksize=batch_size,
                encoding="utf-8-sig",
                skipinitialspace=True,
            )
            yield from reader
        except pd.errors.EmptyDataError:
            raise BulkImportError("文件为空 the file is empty: no header, no rows") from None
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise BulkImportError(f"无法读取 CSV cannot read CSV: {clean_text(str(exc))}") from exc
        return
    yield from _spatial_chunks(path, batch_size)


def _spatial_chunks(path: Path, batch_size: int) -> Iterator[pd.DataFrame]:
    """GeoJSON / GeoPackage in one streaming pass (Arrow record batches): lon/lat of point geometries in WGS-84,
    the other columns as text, and `_geometry_kind` naming any geometry that is not a point."""
    import pyogrio
    import pyproj

    with contextlib.ExitStack() as stack:
        try:
            meta, reader = stack.enter_context(pyogrio.open_arrow(path, batch_size=batch_size, use_pyarrow=True))
        except Exception as exc:  # pyogrio raises several GDAL error types; all mean "unreadable"
            raise BulkImportError(f"无法读取 cannot read {path.name}: {clean_text(str(exc))}") from exc
        crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
        to_wgs84 = None
        if crs is not None and not crs.is_geographic:
            to_wgs84 = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        geometry = meta.get("geometry_name") or "wkb_geometry"
        for table in _tables(reader, path):
            geoms = shapely.from_wkb(table.pop(geometry).to_numpy()) if geometry in table else None
            n = len(table)
            kinds = np.asarray(shapely.get_type_id(geoms) if geoms is not None else np.full(n, -1))
            is_point = kinds == 0
            x = np.full(n, np.nan)
            y = np.full(n, np.nan)
            if is_point.any():
                x[is_point] = shapely.get_x(geoms[is_point])
                y[is_point] = shapely.get_y(geoms[is_point])
                if to_wgs84 is not None:
                    x[is_point], y[is_point] = to_wgs84.transform(x[is_point], y[is_point])
            out = table.astype(object).where(table.notna(), "").astype(str)
            out["lon"] = np.where(is_point, np.char.mod("%.10f", x), "")
            out["lat"] = np.where(is_point, np.char.mod("%.10f", y), "")
            names = np.array(GEOMETRY_KINDS, dtype=object)
            out["_geometry_kind"] = np.where(is_point, "", names[np.clip(kinds + 1, 0, len(names) - 1)])
            yield out


def _tables(reader, path: Path) -> Iterator[pd.DataFrame]:
    """The reader's record batches as DataFrames; a file that fails while being read (text that is not UTF-8, a
    broken feature) is a BulkImportError, like one that cannot be opened."""
    while True:
        try:
            item = next(reader).to_pandas().astype(object)  # text is decoded here: a bad byte fails now
        except StopIteration:
            return
        except Exception as exc:  # GDAL and Arrow raise several error types; all mean "unreadable"
            raise BulkImportError(
                f"无法读取 cannot read {path.name} (GeoJSON 须为 UTF-8 must be UTF-8): {clean_text(str(exc))}"
            ) from exc
        yield item


# shapely type ids + 1 (-1, a missing geometry, reads the first entry)
GEOMETRY_KINDS = (
    "None",
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


# --- validation --------------------------------------------------------------------------------------------------


@dataclass
class Reference:
    """What a batch is checked and resolved against, read once per import."""

    categories: dict[str, tuple[int, str, str]]  # code → (id, urgency, department role)
    generations: list[Generation]
    calendar: WorkCalendar
    crs: str
    by: str

    @classmethod
    def load(cls, *, crs: str, by: str) -> Reference:
        from .services import calendar

        categories = {
            code: (pk, urgency, role)
            for pk, code, urgency, role in Category.objects.leaves()
            .active()
            .values_list("pk", "code", "urgency", "department_role")
        }
        generations = list(Generation.objects.active().order_by("valid_from", "id"))
        return cls(categories=categories, generations=generations, calendar=calendar(), crs=crs, by=by)


@dataclass
class Batch:
    """A validated chunk: the good rows as columns ready for COPY, and the bad rows' errors."""

    good: pd.DataFrame
    bad: dict[int, dict[str, str]] = field(default_factory=dict)  # row → {field: message}
    external_ids: dict[int, str] = field(default_factory=dict)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _choice(values: pd.Series, allowed, default: str) -> tuple[pd.Series, np.ndarray]:
    filled = values.where(values != "", default)
    return filled, ~filled.isin(list(allowed)).to_numpy()


def _parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 text → UTC timestamps; text without an offset is Beijing time."""
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    text = text.where(has_offset | (text == ""), text + "+08:00")
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def _numbers(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)


def validate(frame: pd.DataFrame, first_row: int, ref: Reference, seen: dict[str, int]) -> Batch:
    """Check a chunk column by column; `seen` (external id → row) carries across chunks to catch repeats."""
    n = len(frame)
    rows = np.arange(first_row, first_row + n)
    errors: dict[str, np.ndarray] = {}
    messages: dict[str, str] = {}

    def flag(name: str, mask: np.ndarray, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            errors[name] = errors.get(name, np.zeros(n, bool)) | mask
            messages.setdefault(name, message)

    ext = _column(frame, "external_id")
    flag("external_id", (ext == "").to_numpy(), "必填 required")
    flag("external_id", (ext.str.len() > MAX_TEXT["external_id"]).to_numpy(), "过长 longer than 64")
    duplicate = np.zeros(n, bool)
    first_seen = {}
    for i, value in enumerate(ext.tolist()):
        if not value:
            continue
        if value in seen:
            duplicate[i] = True
            first_seen[i] = seen[value]
        else:
            seen[value] = int(rows[i])
    received = _parse_times(_column(frame, "received_at"))
    flag("received_at", received.isna().to_numpy(), "须为 ISO 8601 时间 must be an ISO 8601 time")
    # Deadlines and generations are computed for every row: one in year 1 or 9999 would fail the whole batch.
    low, high = date_bounds()
    first = pd.Timestamp(low, tz="Asia/Shanghai")
    after_last = pd.Timestamp(high + dt.timedelta(days=1), tz="Asia/Shanghai")
    flag(
        "received_at",
        (received.notna() & ((received < first) | (received >= after_last))).to_numpy(),
        f"须在 must be within {low.isoformat()}..{high.isoformat()}",
    )
    category = _column(frame, "category")
    known = category.map(lambda c: ref.categories.get(c))
    flag("category", known.isna().to_numpy(), "未知分类 unknown third-level category code")
    default_urgency = known.map(lambda k: k[1] if isinstance(k, tuple) else Urgency.GENERAL)
    urgency = _column(frame, "urgency")
    urgency = urgency.where(urgency != "", default_urgency)
    flag("urgency", ~urgency.isin(Urgency.values).to_numpy(), f"须为 must be one of {', '.join(Urgency.values)}")
    channel, bad = _choice(_column(frame, "channel"), Channel.values, Channel.BULK)
    flag("channel", bad, f"须为 must be one of {', '.join(Channel.values)}")
    source, bad = _choice(_column(frame, "location_source"), LocationSource.values, LocationSource.GPS)
    flag("location_source", bad, f"须为 must be one of {', '.join(LocationSource.values)}")
    status = _column(frame, "status")
    flag("status", ~(status.isin(Status.values) | (status == "")).to_numpy(), "未知状态 unknown status")
    satisfaction = _column(frame, "satisfaction")
    flag(
        "satisfaction",
        ~(satisfaction.isin(Satisfaction.values) | (satisfaction == "")).to_numpy(),
        f"须为 must be one of {', '.join(Satisfaction.values)}",
    )
    address = _column(frame, "address")
    flag("address", (address.str.len() > MAX_TEXT["address"]).to_numpy(), "过长 longer than 300")
    description = _column(frame, "description")
    max_description = limit("DESCRIPTION_CHARS")
    flag(
        "description",
        (description.str.len() > max_description).to_numpy(),
        f"过长 longer than {max_description} characters",
    )
    for name, values in (("external_id", ext), ("description", description), ("address", address)):
        # PostgreSQL stores no NUL character (text read from a file is UTF-8, so it holds no lone surrogate).
        flag(name, values.str.contains("\x00", regex=False).to_numpy(), "含 NUL 字符 contains a NUL character")
    if "_geometry_kind" in frame.columns:
        kind = frame["_geometry_kind"].astype(str)
        flag("geometry", (kind != "").to_numpy(), "须为点 must be a Point")
    lon = _numbers(_column(frame, "lon"))
    lat = _numbers(_column(frame, "lat"))
    flag("lon", ~(np.isfinite(lon) & (np.abs(lon) <= 180)), "须为 -180–180 的数 must be a number in -180–180")
    flag("lat", ~(np.isfinite(lat) & (np.abs(lat) <= 90)), "须为 -90–90 的数 must be a number in -90–90")
    crs_text = _column(frame, "crs").where(lambda s: s != "", ref.crs)
    systems = pd.Series("", index=frame.index, dtype=object)
    for value in crs_text.unique():
        try:
            systems[crs_text == value] = coords.normalise_system(value)
        except coords.CoordinateError:
            flag(
                "crs",
                (crs_text == value).to_numpy(),
                f"未知坐标系 unknown coordinate system; use {', '.join(coords.SYSTEMS)}",
            )
    accuracy = _numbers(_column(frame, "accuracy_m"))
    flag(
        "accuracy_m", ~(np.isnan(accuracy) | ((accuracy >= 0) & (accuracy <= 5000))), "须为 0–5000 米 metres in 0–5000"
    )
    confidence = _numbers(_column(frame, "confidence"))
    flag("confidence", ~(np.isnan(confidence) | ((confidence >= 0) & (confidence <= 1))), "须为 0–1 must be in 0–1")

    bad_mask = np.zeros(n, bool)
    for mask in errors.values():
        bad_mask |= mask
    bad_mask |= duplicate
    batch = Batch(good=pd.DataFrame())
    for i in np.flatnonzero(bad_mask):
        row = int(rows[i])
        problems = {name: messages[name] for name, mask in errors.items() if mask[i]}
        if duplicate[i]:
            problems["external_id"] = (
                f"文件内重复，首次出现在第 {first_seen[i]} 行 repeated in the file (first at row {first_seen[i]})"
            )
        batch.bad[row] = problems
        batch.external_ids[row] = ext.iloc[i]
    good = ~bad_mask
    if not good.any():
        return batch

    # Conversion to WGS-84, one vectorised call per coordinate system present.
    wlon, wlat = lon.copy(), lat.copy()
    system_values = systems.to_numpy()
    for system in set(system_values[good]):
        mask = good & (system_values == system)
        wlon[mask], wlat[mask] = coords.to_wgs84(lon[mask], lat[mask], system)
    received_utc = received.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    urgency_values = urgency.to_numpy(dtype=object)
    deadlines = ref.calendar.deadlines(received_utc[good], urgency_values[good].astype(str))
    local_day = (received_utc[good] + np.timedelta64(8, "h")).astype("datetime64[D]")
    gen_id, gen_from, gen_name = _generations(local_day, ref.generations)
    category_info = known[good]
    batch.good = pd.DataFrame(
        {
            "row_no": rows[good],
            "external_id": ext[good].to_numpy(),
            "channel": channel[good].to_numpy(),
            "received_at": _iso(received_utc[good]),
            "category_id": [k[0] for k in category_info],
            "urgency": urgency_values[good],
            "description": description[good].to_numpy(),
            "address": address[good].to_numpy(),
            "lon": wlon[good],
            "lat": wlat[good],
            "in_lon": lon[good],
            "in_lat": lat[good],
            "in_crs": system_values[good],
            "location_source": source[good].to_numpy(),
            "accuracy_m": accuracy[good],
            "confidence": confidence[good],
            "status": status[good].to_numpy(),
            "satisfaction": satisfaction[good].to_numpy(),
            "deadline_at": _iso(deadlines),
            "gen_id": gen_id,
            "gen_from": gen_from,
            "gen_name": gen_name,
            "day": local_day.astype(str),
        }
    )
    for name, _ in VERDICT_COLUMNS:
        batch.good[name] = None
    return batch


def _iso(values: np.ndarray) -> np.ndarray:
    """datetime64 UTC → text PostgreSQL reads as timestamptz."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    return np.char.add(text.astype(str), "+00")


def _generations(local_day: np.ndarray, generations: list[Generation]):
    """For each day, the active generation in force (the latest-starting one): id, valid_from, name."""
    n = len(local_day)
    gen_id = np.full(n, -1, dtype=np.int64)
    gen_from = np.full(n, "", dtype=object)
    gen_name = np.full(n, "", dtype=object)
    for generation in generations:  # later-starting generations come last and overwrite: the latest wins
        start = np.datetime64(generation.valid_from, "D")
        mask = local_day >= start
        if generation.valid_to is not None:
            mask &= local_day < np.datetime64(generation.valid_to, "D")
        gen_id[mask] = generation.pk
        gen_from[mask] = generation.valid_from.isoformat()
        gen_name[mask] = generation.name
    return gen_id, gen_from, gen_name


# --- writing -----------------------------------------------------------------------------------------------------

STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("external_id", "text"),
    ("channel", "text"),
    ("received_at", "timestamptz"),
    ("category_id", "bigint"),
    ("urgency", "text"),
    ("description", "text"),
    ("address", "text"),
    ("lon", "double precision"),
    ("lat", "double precision"),
    ("in_lon", "double precision"),
    ("in_lat", "double precision"),
    ("in_crs", "text"),
    ("location_source", "text"),
    ("accuracy_m", "double precision"),
    ("confidence", "double precision"),
    ("status", "text"),
    ("satisfaction", "text"),
    ("deadline_at", "timestamptz"),
    ("gen_id", "bigint"),
    ("gen_from", "date"),
    ("gen_name", "text"),
]
RESOLVED_COLUMNS = [
    ("district_code", "text"),
    ("district_name", "text"),
    ("street_code", "text"),
    ("street_name", "text"),
    ("on_boundary", "boolean"),
]
# Set only on rows the full engine decided (rule, building footprint, accuracy circle reaching a boundary).
ENGINE_COLUMNS = [
    ("method", "text"),
    ("lead_code", "text"),
    ("lead_name", "text"),
    ("lead_level", "text"),
    ("co_handlers", "jsonb"),
    ("verdict", "jsonb"),
    ("review", "boolean"),
]
VERDICT_COLUMNS = RESOLVED_COLUMNS + ENGINE_COLUMNS
STAGE = "complaints_bulk_stage"


NULL = "\\N"
# Free text goes quoted; codes, enums, numbers and timestamps never hold a comma, quote or newline.
QUOTED = {
    "external_id",
    "description",
    "address",
    "gen_name",
    "district_name",
    "street_name",
    "lead_name",
    "co_handlers",
    "verdict",
}


def _csv_values(values: np.ndarray, name: str) -> list[str]:
    """One staging column as COPY CSV fields (NULL for None/NaN/empty optional values)."""
    items = values.tolist()
    if values.dtype.kind == "f":
        return [NULL if v != v else repr(v) for v in items]
    if values.dtype.kind in "iu":
        return [str(v) for v in items]
    if values.dtype.kind == "b":
        return ["t" if v else "f" for v in items]
    if name in QUOTED:
        return [NULL if v is None else '"' + str(v).replace('"', '""') + '"' for v in items]
    return [NULL if v is None or v == "" else str(v) for v in items]


def copy_text(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """The staging rows as COPY CSV text, built column by column (several times faster than DataFrame.to_csv),
    and the columns it holds: verdict columns that are empty in every row are left out (they stage as NULL).

    Built in the preparing thread while the previous batch is being written.
    """
    names = [name for name in STAGE_NAMES if name in FIRST_STAGE_NAMES or frame[name].notna().to_numpy().any()]
    columns = []
    for name in names:
        values = frame[name].to_numpy()
        if name == "gen_id":
            values = np.where(values >= 0, values.astype(object), None)
        elif values.dtype.kind not in "fiub":
            values = values.astype(object)
        columns.append(_csv_values(values, name))
    return "\n".join(map(",".join, zip(*columns, strict=True))) + "\n", names


STAGE_NAMES = [n for n, _ in STAGE_COLUMNS + VERDICT_COLUMNS]
FIRST_STAGE_NAMES = {n for n, _ in STAGE_COLUMNS}


def _stage(cursor, staged: tuple[str, list[str]]) -> None:
    columns = STAGE_COLUMNS + VERDICT_COLUMNS
    # A batch statement is planned once and runs in seconds: JIT compilation would only add to that. A lost
    # commit on a server crash is recovered by re-running the file (idempotent), so the batch need not wait for
    # the WAL flush.
    cursor.execute("SET LOCAL jit = off; SET LOCAL synchronous_commit = off")
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({', '.join(f'{n} {t}' for n, t in columns)}) ON COMMIT DROP"
    )
    cursor.execute(f"TRUNCATE {STAGE}")
    text, names = staged
    names = ", ".join(names)
    cursor.copy_expert(f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", io.StringIO(text))
    # Statistics for the planner: without them the joins below are planned for a guessed size and run far slower.
    cursor.execute(f"ANALYZE {STAGE}")


def resolve_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Verdict columns for every row, from the jurisdiction engine (`jurisdictions.engine.resolve`): the geometric
    answer where it is the verdict; the engine's full verdict (kept as JSON, with lead, co-handlers and review)
    where it is not — a rule in force on the row's day, a building footprint, a boundary, an accuracy circle
    reaching one, or a point outside every area."""
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    accuracy = frame["accuracy_m"].to_numpy(dtype=float)
    resolution = engine.resolve(lon, lat, at=frame["day"].to_numpy().astype("datetime64[D]"), accuracy_m=accuracy)
    out = frame.copy()
    for column in ("district_code", "district_name", "street_code", "street_name"):
        values = np.asarray(getattr(resolution, column), dtype=object)
        out[column] = np.where(values == "", None, values)
    out["on_boundary"] = False
    rows = np.flatnonzero(resolution.needs_full)
    if not len(rows):
        return out
    values: dict[str, list] = {name: [] for name, _ in VERDICT_COLUMNS}
    for i in rows.tolist():
        echo = {"lon": frame["in_lon"].iat[i], "lat": frame["in_lat"].iat[i], "crs": frame["in_crs"].iat[i]}
        verdict = resolution.verdict(i, input=echo).as_dict()
        district, street, lead = verdict["district"] or {}, verdict["street"] or {}, verdict["lead"] or {}
        for name, value in (
            ("district_code", district.get("code")),
            ("district_name", district.get("name")),
            ("street_code", street.get("code")),
            ("street_name", street.get("name")),
            ("on_boundary", bool(verdict["on_boundary"])),
            ("method", verdict["method"]),
            ("lead_code", lead.get("code")),
            ("lead_name", lead.get("name")),
            ("lead_level", lead.get("level")),
            ("co_handlers", json.dumps(verdict["co_handlers"], ensure_ascii=False)),
            ("verdict", json.dumps(verdict, ensure_ascii=False)),
            ("review", bool(verdict["needs_review"])),
        ):
            values[name].append(value)
    for name, column in values.items():
        if name not in out.columns or name == "on_boundary":
            out[name] = out[name].astype(object) if name in out.columns else None
        out.iloc[rows, out.columns.get_loc(name)] = pd.Series(column, dtype=object).to_numpy()
    return out


def _insert(cursor, bulk_import_id: int, by: str) -> int:
    """One statement: complaints (skipping known external ids), their first history row and assignments."""
    complaint, history = Complaint._meta.db_table, StatusChange._meta.db_table
    assignment, department = Assignment._meta.db_table, Department._meta.db_table
    category = Category._meta.db_table
    # Rows already stored (a re-run) leave first, by index probe, so the statement below only works on new ones;
    # ON CONFLICT still guards against a concurrent import of the same ids.
    cursor.execute(f"DELETE FROM {STAGE} s USING {complaint} c WHERE c.external_id = s.external_id")
    cursor.execute(
        f"""
        WITH src AS (
            SELECT s.*,
                   COALESCE(s.lead_code, s.street_code, s.district_code) AS area_code,
                   COALESCE(s.lead_name, s.street_name, s.district_name) AS area_name,
                   CASE WHEN s.lead_code IS NOT NULL THEN s.lead_level
                        WHEN s.street_code IS NOT NULL THEN 'street'
                        WHEN s.district_code IS NOT NULL THEN 'district' END AS area_level,
                   dep.id AS department_id, dep.code AS department_code, dep.name AS department_name
              FROM {STAGE} s
              JOIN {category} cat ON cat.id = s.category_id
              LEFT JOIN LATERAL (
                    SELECT d.id, d.code, d.name FROM {department} d
                     WHERE cat.department_role <> '' AND d.role = cat.department_role
                       AND (d.district_code = s.district_code OR d.district_code = '')
                     ORDER BY d.district_code DESC, d.code LIMIT 1
              ) dep ON true
        ), prepared AS (
            SELECT src.*,
                   COALESCE(NULLIF(src.status, ''),
                            CASE WHEN src.area_code IS NOT NULL OR src.department_id IS NOT NULL
                                 THEN 'dispatched' ELSE 'received' END) AS final_status,
                   COALESCE(src.method, CASE WHEN src.district_code IS NULL THEN 'outside' ELSE 'point' END)
                       AS final_method,
                   COALESCE(src.review, src.district_code IS NULL OR src.on_boundary) AS final_review
              FROM src
        ), ins AS (
            INSERT INTO {complaint} (
                external_id, channel, received_at, category_id, urgency, description, address, location,
                location_source, input_crs, input_lon, input_lat, accuracy_m, confidence, verdict, verdict_method,
                generation_name, district_code, district_name, street_code, street_name, lead_code, lead_name,
                needs_review, status, deadline_at, resolved_at, closed_at, satisfaction, reporter, bulk_import_id,
                created_at, updated_at)
            SELECT p.external_id, p.channel, p.received_at, p.category_id, p.urgency, p.description, p.address,
                   ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), p.location_source, p.in_crs, p.in_lon, p.in_lat,
                   p.accuracy_m, p.confidence,
                   -- Rows decided by geometry keep only what the columns cannot say; their verdict is rebuilt
                   -- from the columns on read (selectors.complaint_verdict). Building a JSON document per row
                   -- cost more than the rest of the insert. Rows the full engine decided keep its verdict.
                   CASE WHEN p.verdict IS NOT NULL THEN p.verdict || '{{"bulk": true}}'::jsonb
                        WHEN p.on_boundary THEN '{{"bulk": true, "on_boundary": true}}'::jsonb
                        ELSE '{{"bulk": true}}'::jsonb END,
                   p.final_method, COALESCE(p.gen_name, ''),
                   COALESCE(p.district_code, ''), COALESCE(p.district_name, ''),
                   COALESCE(p.street_code, ''), COALESCE(p.street_name, ''),
                   COALESCE(p.area_code, p.department_code, ''), COALESCE(p.area_name, p.department_name, ''),
                   p.final_review, p.final_status, p.deadline_at, NULL, NULL, COALESCE(p.satisfaction, ''),
                   '{{}}'::jsonb,
                   %(import_id)s, now(), now()
              FROM prepared p
            ON CONFLICT (external_id) DO NOTHING
            RETURNING id, external_id, status, received_at
        ), joined AS (
            SELECT ins.id, ins.status, ins.received_at, p.area_code, p.area_name, p.area_level,
                   p.department_id, p.department_name, p.co_handlers, p.lead_code IS NOT NULL AS engine_lead
              FROM ins JOIN prepared p ON p.external_id = ins.external_id
        ), history AS (
            INSERT INTO {history} (complaint_id, from_status, to_status, at, by, note)
            SELECT id, '', status, received_at, %(by)s, '批量导入 bulk import' FROM joined
        ), leads AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT id, 'lead', area_code, area_level, NULL, area_name,
                   CASE WHEN status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END, true, now(), NULL,
                   CASE WHEN area_level = 'district' AND NOT engine_lead THEN '属地兜底 district takes it' ELSE '' END
              FROM joined WHERE area_code IS NOT NULL
        ), co_handlers AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT j.id, 'co_handler', co->>'code', co->>'level', NULL, co->>'name',
                   CASE WHEN j.status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END, false, now(), NULL, ''
              FROM joined j CROSS JOIN LATERAL jsonb_array_elements(j.co_handlers) co
             WHERE j.co_handlers IS NOT NULL AND j.area_code IS NOT NULL AND co->>'code' <> j.area_code
        ), departments AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT id, CASE WHEN area_code IS NULL THEN 'lead' ELSE 'department' END, '', '', department_id,
                   department_name, CASE WHEN status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END,
                   area_code IS NULL, now(), NULL, ''
              FROM joined WHERE department_id IS NOT NULL
        )
        SELECT count(*) FROM ins
        """,
        {"import_id": bulk_import_id, "by": by},
    )
    return cursor.fetchone()[0]


@dataclass
class Prepared:
    """A chunk made ready for the database: validated, resolved by the engine, as COPY text."""

    rows_read: int
    batch: Batch
    staged: tuple[str, list[str]]


def prepare(chunks: Iterator[pd.DataFrame], fmt: str, ref: Reference) -> Iterator[Prepared]:
    """Validation, conversion, resolution and COPY text for each chunk (no writes: it may run in a thread)."""
    seen: dict[str, int] = {}
    next_row = 1
    for chunk in chunks:
        if next_row == 1:
            _check_columns(chunk, fmt)
        batch = validate(chunk.reset_index(drop=True), next_row, ref, seen)
        next_row += len(chunk)
        if len(batch.good):
            batch.good = resolve_rows(batch.good)
        staged = copy_text(batch.good) if len(batch.good) else ("", [])
        yield Prepared(len(chunk), batch, staged)


def ahead(items: Iterator, depth: int = 1) -> Iterator:
    """Run an iterator in a thread, `depth` items ahead of the consumer.

    Preparing batch k+1 (numpy, pandas, the in-process resolver) overlaps with writing batch k (the database
    works while psycopg2 waits without holding the GIL). Errors in the thread are raised in the consumer.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)
        finally:
            connections.close_all()  # this thread's connections only (the resolver may have opened one)

    worker = threading.Thread(target=run, name="bulk-prepare", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def drop_outside_scope(cursor, scope_prefix: str, batch: Batch) -> None:
    """Take staged rows whose street and district both lie outside the importing user's area out of the batch,
    reporting each as a bad row. `scope_prefix` is a district code (its streets share the prefix) or a street code.
    """
    cursor.execute(
        f"""
        DELETE FROM {STAGE}
         WHERE NOT (coalesce(street_code, '') LIKE %(prefix)s OR coalesce(district_code, '') LIKE %(prefix)s)
        RETURNING row_no, external_id, coalesce(street_code, district_code, '')
        """,
        {"prefix": scope_prefix + "%"},
    )
    for row, external_id, code in cursor.fetchall():
        batch.bad[row] = {"scope": f"不在你的辖区 outside your area ({code or 'no area'})"}
        batch.external_ids[row] = external_id or ""


def _write(
    frame: pd.DataFrame,
    staged: tuple[str, list[str]] | None,
    bulk_import_id: int,
    by: str,
    batch: Batch,
    scope_prefix: str = "",
) -> int:
    """Write staged rows; if the database refuses, split the rows until the refusing ones are isolated."""
    try:
        with transaction.atomic():
            with connection.cursor() as wrapper:
                cursor = wrapper.cursor
                _stage(cursor, staged if staged is not None else copy_text(frame))
                if scope_prefix:
                    drop_outside_scope(cursor, scope_prefix, batch)
                return _insert(cursor, bulk_import_id, by)
    except (DatabaseError, psycopg2.Error) as exc:
        if len(frame) == 1:
            row = int(frame["row_no"].iloc[0])
            batch.bad[row] = {"database": f"数据库拒绝 rejected by the database: {str(exc).splitlines()[0]}"}
            batch.external_ids[row] = str(frame["external_id"].iloc[0])
            return 0
        middle = len(frame) // 2
        first = _write(frame.iloc[:middle], None, bulk_import_id, by, batch, scope_prefix)
        return first + _write(frame.iloc[middle:], None, bulk_import_id, by, batch, scope_prefix)


def complaints_import(
    *,
    source: str | Path,
    file_format_name: str | None = None,
    crs: str = "wgs84",
    batch_size: int = DEFAULT_BATCH,
    by: Any = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    overlap: bool = True,
) -> BulkImport:
    """Import a complaint file batch by batch (each batch all-or-nothing); returns the import with its counts.

    Columns (CSV; spatial formats give lon/lat by their point geometry): external_id, received_at, category,
    lon, lat required; channel, urgency, description, address, crs, location_source, accuracy_m, confidence,
    status, satisfaction optional. `crs` is the default for rows without their own. Bad rows are listed in
    `BulkRowError` by row number. Allowed to api clients and administrators (anywhere), and to district and
    street staff, whose rows outside their area are reported as bad rows ("scope"); `by=None` is the system.

    With `overlap` (the default) the next batch is prepared in a thread, on its own database connection, while
    this one is written; without it everything runs on the caller's connection, so the engine also sees rules
    or buildings the caller wrote in a transaction not yet committed.
    """
    scope_prefix = bulk_scope(by)
    path = Path(source)
    if not path.exists():
        raise BulkImportError(f"找不到文件 file not found: {source}")
    fmt = file_format(path, file_format_name)
    try:
        crs = coords.normalise_system(crs or "wgs84")
    except coords.CoordinateError as exc:
        raise BulkImportError(str(exc)) from exc
    max_batch = limit("IMPORT_BATCH_ROWS")
    if not 1 <= batch_size <= max_batch:
        raise BulkImportError(f"batch_size 须为 1–{max_batch} 的整数 must be an integer in 1–{max_batch}")
    who = actor(by)
    # Imports left `running` by a process that is gone are closed first, so a re-run is not mistaken for them.
    imports_reap()
    record = BulkImport.objects.create(
        source_name=(source_name or path.name)[:300],
        file_format=fmt,
        crs=crs,
        batch_size=batch_size,
        by=who,
        host=HOST,
        pid=os.getpid(),
        heartbeat_at=timezone.now(),
    )
    ref = Reference.load(crs=crs, by=who)
    try:
        with _heartbeat(record.pk):
            prepared = prepare(read_chunks(path, fmt, batch_size), fmt, ref)
            for ready in ahead(prepared) if overlap else prepared:
                batch = ready.batch
                with transaction.atomic():
                    created = 0
                    if len(batch.good):
                        created = _write(batch.good, ready.staged, record.pk, who, batch, scope_prefix)
                    _record_errors(record, batch)
                    BulkImport.objects.filter(pk=record.pk).update(
                        rows_read=ready.rows_read + _F("rows_read"),
                        rows_created=created + _F("rows_created"),
                        rows_existing=(len(batch.good) - created - _late_bad(batch)) + _F("rows_existing"),
                        rows_bad=len(batch.bad) + _F("rows_bad"),
                        batches_done=1 + _F("batches_done"),
                        heartbeat_at=timezone.now(),
                    )
                if progress is not None:
                    progress(ready.rows_read)
    except BaseException as exc:
        # Whatever stops the import (a bad file, a bug, Ctrl-C) leaves it failed with the reason, never `running`.
        message = str(exc) if isinstance(exc, BulkImportError) else f"中断 interrupted: {type(exc).__name__}: {exc}"
        with contextlib.suppress(DatabaseError):
            BulkImport.objects.filter(pk=record.pk).update(
                state=ImportState.FAILED, message=clean_text(message)[:2000], finished_at=timezone.now()
            )
        raise
    BulkImport.objects.filter(pk=record.pk).update(state=ImportState.FINISHED, finished_at=timezone.now())
    # The map's hexagon counts take the new rows in one pass now, rather than at the next map request.
    cells.cells_fold()
    record.refresh_from_db()
    return record


# --- imports whose process is gone ------------------------------------------------------------------------------

HOST = socket.gethostname()[:255]


def _stale_seconds() -> float:
    return float(settings.SHAOZI.get("BULK_IMPORT_STALE_SECONDS", 120))


@contextlib.contextmanager
def _heartbeat(bulk_import_id: int):
    """Keep `heartbeat_at` of a running import fresh from a thread while the import runs (a batch may take longer
    than the stale limit), so only an import whose process is gone goes stale."""
    stop = threading.Event()
    every = max(1.0, _stale_seconds() / 4)

    def beat() -> None:
        try:
            while not stop.wait(every):
                BulkImport.objects.filter(pk=bulk_import_id, state=ImportState.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except DatabaseError:
            pass  # the batches beat too; a missed beat only matters after the stale limit
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=beat, name="bulk-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def imports_reap(*, now: dt.datetime | None = None) -> int:
    """Mark failed every `running` import whose process is gone: on this host a process id that no longer runs,
    anywhere a heartbeat older than SHAOZI["BULK_IMPORT_STALE_SECONDS"] (a crashed host, a reused process id).
    Their committed batches stay; re-running the same file completes them (external ids make it idempotent).
    Returns how many were marked. Called when an import starts and when an import is read through the API."""
    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=_stale_seconds())
    gone = []
    for pk, host, pid, heartbeat_at, started_at in BulkImport.objects.filter(state=ImportState.RUNNING).values_list(
        "pk", "host", "pid", "heartbeat_at", "started_at"
    ):
        if host == HOST and pid and pid != os.getpid() and not _process_alive(pid):
            gone.append((pk, "进程已退出 the importing process is gone"))
        elif (heartbeat_at or started_at) < stale_before:
            gone.append((pk, f"超过 {_stale_seconds():g} 秒无心跳 no heartbeat for {_stale_seconds():g} s"))
    for pk, reason in gone:
        BulkImport.objects.filter(pk=pk, state=ImportState.RUNNING).update(
            state=ImportState.FAILED,
            message=f"导入中断 import interrupted: {reason}; 重新导入同一文件即可补全 re-run the file to complete it",
            finished_at=now,
        )
    return len(gone)


def _F(name: str):
    from django.db.models import F

    return F(name)


def _late_bad(batch: Batch) -> int:
    """Rows found bad while writing (refused by the database, outside the user's area): counted as good before."""
    return sum(1 for problems in batch.bad.values() if "database" in problems or "scope" in problems)


def _check_columns(chunk: pd.DataFrame, fmt: str) -> None:
    required = {"external_id", "received_at", "category"} | ({"lon", "lat"} if fmt == "csv" else set())
    missing = sorted(required - set(chunk.columns))
    if missing:
        raise BulkImportError(f"缺少列 missing columns: {', '.join(missing)}")


def _record_errors(record: BulkImport, batch: Batch) -> None:
    BulkRowError.objects.bulk_create(
        [
            BulkRowError(
                bulk_import=record,
                row=row,
                external_id=str(batch.external_ids.get(row, ""))[:64],
                errors=problems,
            )
            for row, problems in sorted(batch.bad.items())
        ],
        batch_size=5000,
    )


def error_report_rows(record: BulkImport) -> Iterator[tuple[int, str, str]]:
    """(row, external_id, "field: message; …") for every bad row of an import, by row number."""
    for error in record.row_errors.order_by("row").iterator(chunk_size=5000):
        yield error.row, error.external_id, "; ".join(f"{k}: {v}" for k, v in error.errors.items())
