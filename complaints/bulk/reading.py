"""Reading complaint files (CSV, GeoJSON, GeoPackage) in chunks, streamed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from config.limits import clean_text

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
