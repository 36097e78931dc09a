"""Reading GIS files through GDAL (pyogrio) into WGS-84, including China's shifted systems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from . import coords


class SourceError(ValueError):
    """The source cannot be read, or its coordinate system cannot be understood."""


@dataclass(frozen=True)
class SourceCRS:
    """Where a source's coordinates live: a shifted Chinese system (gcj02/bd09) or any pyproj CRS."""

    shifted: str | None = None  # coords.GCJ02 or coords.BD09
    crs: CRS | None = None  # None: take it from the file, or WGS-84 when the file has none

    @classmethod
    def parse(cls, value: str | None) -> SourceCRS:
        """Accept gcj02 / bd09 / wgs84 / cgcs2000 and anything pyproj understands (EPSG:32650, a WKT …)."""
        if value is None or value == "":
            return cls()
        try:
            system = coords.normalise_system(value)
        except coords.CoordinateError:
            try:
                return cls(crs=CRS.from_user_input(value))
            except CRSError as exc:
                raise SourceError(f"无法识别坐标系 cannot understand coordinate system {value!r}: {exc}") from exc
        if system in (coords.GCJ02, coords.BD09):
            return cls(shifted=system)
        return cls(crs=CRS.from_epsg(4326))


def shift_geometries(geoms, system: str):
    """Convert an array of shapely geometries from `system` to WGS-84, all coordinates in one vectorised call."""

    def _convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), _convert)


def read_wgs84(source: str | Path, *, layer: str | int | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read any OGR source (GeoJSON, Shapefile, GeoPackage …) and return it in WGS-84 (EPSG:4326).

    `crs` overrides the file's own system; gcj02 and bd09 are de-shifted with geo.coords.
    """
    path = Path(source)
    if not path.exists():
        raise SourceError(f"找不到文件 file not found: {source}")
    source_crs = SourceCRS.parse(crs)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several GDAL error types; all mean "unreadable"
        raise SourceError(f"无法读取 cannot read {source}: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise SourceError(f"没有几何字段 source has no geometry: {source}")
    if source_crs.shifted:
        frame = frame.set_crs(4326, allow_override=True)
        frame.geometry = shift_geometries(frame.geometry.values, source_crs.shifted)
        return frame
    if source_crs.crs is not None:
        frame = frame.set_crs(source_crs.crs, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)
