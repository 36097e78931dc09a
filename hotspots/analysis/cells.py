"""H3 cells, metric coordinates and distance-band weights.

H3 cells are held as unsigned 64-bit integers (`h3.api.numpy_int`) so they sort, deduplicate and index as
numpy arrays; they are turned into hex strings only at the edges (database, API).
"""

from __future__ import annotations

import h3
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import scipy.sparse as sp
from libpysal.graph import Graph
from pyproj import Transformer
from scipy.spatial import cKDTree

# UTM zone 50N: Beijing lies between 115.4° and 117.5° E, inside the zone (central meridian 117° E), so
# distances in it are within 0.1 % of true ones — plenty for neighbourhoods of hundreds of metres.
METRIC_CRS = "EPSG:32650"
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def to_metric(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat arrays → UTM 50N x/y in metres."""
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """UTM 50N x/y in metres → WGS-84 lon/lat arrays."""
    lon, lat = _TO_WGS84.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def points_to_cells(lon, lat, resolution: int) -> np.ndarray:
    """The H3 cell (uint64) of every point."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    cells = np.fromiter(
        (h3i.latlng_to_cell(a, b, resolution) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)),
        dtype=np.uint64,
        count=len(lat),
    )
    return cells


def cell_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of the centre of each cell."""
    latlng = np.array([h3i.cell_to_latlng(c) for c in np.asarray(cells, dtype=np.uint64).tolist()], dtype=float)
    if len(latlng) == 0:
        return np.empty(0), np.empty(0)
    return latlng[:, 1], latlng[:, 0]


def pad_cells(cells: np.ndarray, rings: int) -> np.ndarray:
    """`cells` plus every cell within `rings` steps of one of them, sorted and unique."""
    cells = np.unique(np.asarray(cells, dtype=np.uint64))
    if rings <= 0 or len(cells) == 0:
        return cells
    disks = [h3i.grid_disk(c, rings) for c in cells.tolist()]
    return np.unique(np.concatenate([np.asarray(d, dtype=np.uint64) for d in disks]))


def cell_hex(cells) -> list[str]:
    """H3 cells as the usual 15-character hex strings."""
    return [h3.int_to_str(int(c)) for c in np.asarray(cells, dtype=np.uint64).tolist()]


def cell_int(hexes) -> np.ndarray:
    """Hex strings → uint64 cells."""
    return np.array([h3.str_to_int(h) for h in hexes], dtype=np.uint64)


def cell_polygon(cell) -> list[list[float]]:
    """The closed GeoJSON ring ([lon, lat] pairs) of one cell."""
    ring = [[lng, lat] for lat, lng in h3i.cell_to_boundary(int(cell))]
    ring.append(ring[0])
    return ring


def mean_edge_m(resolution: int) -> float:
    """Average edge length of H3 cells at `resolution`, in metres."""
    return float(h3.average_hexagon_edge_length(resolution, unit="m"))


def band_adjacency(x: np.ndarray, y: np.ndarray, band_m: float, *, self_weight: bool = True) -> sp.csr_matrix:
    """Binary distance-band adjacency (1 when centres are ≤ band_m apart), with the self-weight 1 on the diagonal.

    The self-weight makes it Gi* (the cell is part of its own neighbourhood); without it, it is the plain band
    (for Moran's I). Pairs come from a k-d tree, so building it is O(n log n + pairs), not O(n²).
    """
    n = len(x)
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(band_m, output_type="ndarray")
    diagonal = np.arange(n) if self_weight else np.empty(0, dtype=pairs.dtype)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], diagonal])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], diagonal])
    adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adjacency.sort_indices()
    return adjacency


def graph_from_adjacency(adjacency: sp.spmatrix) -> Graph:
    """A libpysal Graph over positions 0..n-1 from a square sparse matrix whose every row has an entry.

    Built straight from the sorted COO arrays: `Graph.from_sparse` reindexes through pandas to find islands,
    which takes seconds at millions of links and is not needed when every node has its self-weight.
    """
    coo = sp.csr_matrix(adjacency)
    coo.sort_indices()
    coo = coo.tocoo()
    ids = np.arange(coo.shape[0])
    index = pd.MultiIndex(
        levels=[ids, ids], codes=[coo.row, coo.col], names=["focal", "neighbor"], verify_integrity=False
    )
    return Graph(pd.Series(coo.data.astype(float), index=index, name="weight"), transformation="B", is_sorted=True)
