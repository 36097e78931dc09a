"""Reading complaint files (CSV, GeoJSON, GeoPackage, GeoParquet file or partitioned folder) in chunks, streamed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from config.limits import clean_text

FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".parquet": "geoparquet"}
DEFAULT_BATCH = 50_000
MAX_TEXT = {"external_id": 64, "address": 300}
Progress = Callable[[int], None]


class BulkImportError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, missing columns)."""


# --- reading -----------------------------------------------------------------------------------------------------


def file_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in set(FORMATS.values()):
            raise BulkImportError(f"不支持的格式 unsupported format {declared!r}; use csv, geojson, gpkg or geoparquet")
        return declared
    if path.is_dir():  # a partitioned GeoParquet archive (complaints_export)
        return "geoparquet"
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise BulkImportError(
            f"不支持的文件类型 unsupported file type {path.suffix!r}: use .csv, .geojson, .gpkg, .parquet or a folder"
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
    if fmt == "geoparquet":
        yield from _parquet_chunks(path, batch_size)
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
            yield _point_columns(table, geoms, to_wgs84)


def _point_columns(table: pd.DataFrame, geoms, to_wgs84, digits: str = "%.10f") -> pd.DataFrame:
    """The table's columns as text, plus lon/lat (WGS-84) of point geometries and `_geometry_kind` for others."""
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
    out["lon"] = np.where(is_point, np.char.mod(digits, x), "")
    out["lat"] = np.where(is_point, np.char.mod(digits, y), "")
    names = np.array(GEOMETRY_KINDS, dtype=object)
    out["_geometry_kind"] = np.where(is_point, "", names[np.clip(kinds + 1, 0, len(names) - 1)])
    return out


def _parquet_chunks(path: Path, batch_size: int) -> Iterator[pd.DataFrame]:
    """A GeoParquet file, or a folder of them partitioned Hive-style (`month=2026-11/…`, as `complaints_export`
    writes), in record batches: the primary geometry (WKB or GeoArrow points) as lon/lat in WGS-84, times as ISO
    8601 UTC with their microseconds, other columns as text. Coordinates keep all 17 significant digits, so an
    exported archive comes back at exactly the stored points."""
    import json

    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyproj

    try:
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        schema = dataset.schema
        geo = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise BulkImportError(f"无法读取 cannot read {path.name}: {clean_text(str(exc))}") from exc
    geometry = geo.get("primary_column")
    if not geometry or geometry not in schema.names:
        raise BulkImportError(f"不是 GeoParquet not GeoParquet (no geometry metadata): {path.name}")
    column = geo.get("columns", {}).get(geometry, {})
    encoding = str(column.get("encoding", "WKB")).lower()
    if encoding not in ("wkb", "point"):
        raise BulkImportError(f"不支持的几何编码 unsupported geometry encoding {encoding!r}: use WKB or point")
    crs = pyproj.CRS.from_user_input(column["crs"]) if column.get("crs") else None  # absent: OGC:CRS84
    to_wgs84 = None
    if crs is not None and not crs.is_geographic:
        to_wgs84 = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    try:
        for batch in dataset.to_batches(batch_size=batch_size):
            if not batch.num_rows:
                continue
            raw = batch.column(geometry)
            if encoding == "wkb":
                geoms = shapely.from_wkb(raw.to_numpy(zero_copy_only=False))
            else:
                geoms = shapely.points(raw.field("x").to_numpy(zero_copy_only=False), raw.field("y").to_numpy())
            table = batch.drop_columns([geometry]).to_pandas()
            for name in table.columns:
                if isinstance(table[name].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(table[name]):
                    table[name] = _iso_utc(table[name])
            yield _point_columns(table, geoms, to_wgs84, digits="%.17g")
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise BulkImportError(f"无法读取 cannot read {path.name}: {clean_text(str(exc))}") from exc


def _iso_utc(values: pd.Series) -> pd.Series:
    """Timestamps as ISO 8601 text in UTC (naive ones are taken as UTC, as GeoParquet writers store them)."""
    times = pd.to_datetime(values, utc=True)
    text = pd.Series(
        np.datetime_as_string(times.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"), unit="us"),
        index=values.index,
    )
    return (text + "+00:00").where(times.notna(), "")


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
