"""Getis-Ord Gi* hot spots on H3 cells, with Benjamini–Hochberg FDR and a scale chosen from the data.

The statistic comes from esda (`G_Local(star=True)`, binary distance-band weights with the self-weight,
analytical normal p-values — no permutations); the FDR cut-off from `esda.fdr`. What this module adds is the
aggregation to cells and the choice of scale in the manner of Optimized Hot Spot Analysis (see
docs/hotspots.md): locational outliers screened, resolution and distance band derived, minimum counts enforced.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import esda
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots.constants import CONFIDENCE_BINS, GISTAR_RESOLUTION, MIN_CELLS, MIN_INCIDENTS, PAD_RINGS

from . import InsufficientData
from .cells import (
    band_adjacency,
    cell_centres,
    graph_from_adjacency,
    pad_cells,
    points_to_cells,
    to_metric,
)


def gi_star(values: np.ndarray, adjacency) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values of `values` over a binary adjacency that includes the self-weight.

    esda's `p_norm` is one-sided (the tail beyond |z|); hot and cold spots are both of interest, so the p-value
    is doubled, which is what the ±1/±2/±3 bins at 90/95/99 % assume.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.allclose(values, values[0]):
        raise InsufficientData("所有单元的值相同，无法计算 Gi* all cells have the same value: Gi* is undefined")
    graph = graph_from_adjacency(adjacency)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = esda.G_Local(values, graph, transform="B", permutations=0, star=True)
    z = np.asarray(g.Zs, dtype=float)
    p = np.minimum(1.0, 2.0 * np.asarray(g.p_norm, dtype=float))
    return z, p


def fdr_bins(z: np.ndarray, p: np.ndarray, *, use_fdr: bool = True) -> tuple[np.ndarray, dict[str, float]]:
    """Bins −3…3 (99/95/90 % hot or cold) with the Benjamini–Hochberg cut-off of each level, and the cut-offs.

    For each confidence level the FDR cut-off is `esda.fdr(p, alpha)`; a cell gets the highest level whose
    cut-off its p-value is below, signed by its z-score. Without FDR the cut-off is alpha itself.
    """
    bins = np.zeros(len(z), dtype=np.int8)
    cutoffs: dict[str, float] = {}
    for level, alpha in sorted(CONFIDENCE_BINS):  # 1, 2, 3: higher levels overwrite lower ones
        cutoff = float(esda.fdr(p, alpha)) if use_fdr else alpha
        cutoffs[str(round((1 - alpha) * 100))] = cutoff
        significant = p < cutoff
        bins[significant] = level
    bins = (bins * np.sign(z)).astype(np.int8)
    return bins, cutoffs


@dataclass
class Scale:
    """The scale an analysis ran at, and how it was chosen (reported with every result)."""

    resolution: int
    band_m: float
    resolution_method: str
    band_method: str
    incidents: int
    outliers: int
    cells: int
    occupied_cells: int
    pad_rings: int
    moran_profile: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "resolution": self.resolution,
            "band_m": round(self.band_m, 1),
            "resolution_method": self.resolution_method,
            "band_method": self.band_method,
            "incidents": self.incidents,
            "locational_outliers": self.outliers,
            "cells": self.cells,
            "occupied_cells": self.occupied_cells,
            "pad_rings": self.pad_rings,
            "moran_profile": self.moran_profile,
        }


@dataclass
class HotspotResult:
    """Cells (DataFrame: cell, count, residents, value, z, p, bin, neighbours) and the scale used."""

    cells: pd.DataFrame
    scale: Scale
    fdr_cutoffs: dict[str, float]
    per_residents: bool

    def summary(self) -> dict:
        counts = self.cells["bin"].value_counts().to_dict()
        return {
            "scale": self.scale.as_dict(),
            "fdr": True,
            "fdr_cutoffs": self.fdr_cutoffs,
            "per_residents": self.per_residents,
            "bins": {str(k): int(counts.get(k, 0)) for k in range(-3, 4)},
        }


def locational_outliers(x: np.ndarray, y: np.ndarray, *, sample: int = 200_000, seed: int = 0) -> np.ndarray:
    """Mask of points whose nearest-neighbour distance exceeds the mean by more than three standard deviations.

    Distances are computed for at most `sample` points (a fixed random sample; the rest are judged against the
    same threshold through their own nearest neighbour in the sample-free tree), so 1 M points take ~1 s.
    """
    n = len(x)
    if n < 3:
        return np.zeros(n, dtype=bool)
    xy = np.column_stack([x, y])
    tree = cKDTree(xy)
    distances, _ = tree.query(xy, k=2)
    nn = distances[:, 1]
    if n > sample:
        probe = np.random.default_rng(seed).choice(n, sample, replace=False)
        mean, std = nn[probe].mean(), nn[probe].std()
    else:
        mean, std = nn.mean(), nn.std()
    return nn > mean + 3 * std


def choose_resolution(lon, lat, candidates=(10, 9, 8, 7), min_mean_count: float = 3.0) -> int:
    """The finest H3 resolution at which occupied cells hold on average ≥ `min_mean_count` incidents.

    Too fine a grid leaves most cells with 0 or 1 incident and Gi* then measures noise; too coarse hides the
    place. Falls back to the coarsest candidate.
    """
    for resolution in sorted(candidates, reverse=True):
        cells = points_to_cells(lon, lat, resolution)
        occupied = len(np.unique(cells))
        if occupied >= MIN_CELLS and len(cells) / occupied >= min_mean_count:
            return resolution
    return min(candidates)


def moran_z(values: np.ndarray, adjacency) -> tuple[float, float]:
    """Global Moran's I and its z-score under the normality assumption, row-standardised weights.

    The same moments as `esda.Moran(..., transformation="r").z_norm` (checked in the tests), taken from the
    sparse matrix directly: esda reaches them through libpysal's Graph summary, which multiplies the weights
    matrix by itself and takes minutes at thousands of cells with hundreds of neighbours each.
    """
    import scipy.sparse as sp

    w = sp.csr_matrix(adjacency, dtype=float)
    rows = np.asarray(w.sum(axis=1)).ravel()
    w = sp.diags(1.0 / rows) @ w
    n = len(values)
    z = np.asarray(values, dtype=float) - np.mean(values)
    s0 = w.sum()
    i_stat = n / s0 * float(z @ (w @ z)) / float(z @ z)
    s1 = 0.5 * (w + w.T).power(2).sum()
    s2 = float(((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum())
    expected = -1.0 / (n - 1)
    variance = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n * n - 1) * s0 * s0) - expected**2
    return i_stat, (i_stat - expected) / np.sqrt(variance)


def incremental_band(
    x: np.ndarray, y: np.ndarray, values: np.ndarray, *, steps: int = 10, max_mean_neighbours: float = 150.0
) -> tuple[float, str, list[dict]]:
    """A distance band from incremental spatial autocorrelation (global Moran's I over growing bands).

    Start at the distance that gives every cell at least one neighbour, grow by the mean nearest-neighbour
    distance, up to `steps` times (stopping once cells average more than `max_mean_neighbours` neighbours: a
    band that wide no longer describes a place); take the first band where Moran's z peaks (clustering is most
    pronounced). Without a peak, take the mean distance to the 8th nearest cell (a neighbourhood of about two
    hexagon rings).
    """
    import scipy.sparse as sp

    n = len(x)
    xy = np.column_stack([x, y])
    tree = cKDTree(xy)
    distances, _ = tree.query(xy, k=min(9, n))
    nn = distances[:, 1]
    start = float(nn.max()) * 1.0001
    increment = float(nn.mean())
    # All pairs up to the widest band once; each band is then a mask over them.
    widest = start + (steps - 1) * increment
    pairs = tree.query_pairs(widest, output_type="ndarray")
    gaps = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    profile = []
    for step in range(steps):
        band = start + step * increment
        chosen = pairs[gaps <= band]
        if 2 * len(chosen) / n > max_mean_neighbours and len(profile) >= 3:
            break
        rows = np.concatenate([chosen[:, 0], chosen[:, 1]])
        cols = np.concatenate([chosen[:, 1], chosen[:, 0]])
        adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        i_stat, z = moran_z(values, adjacency)
        profile.append(
            {
                "band_m": round(band, 1),
                "mean_neighbours": round(2 * len(chosen) / n, 1),
                "moran_i": round(float(i_stat), 6),
                "z": round(float(z), 4),
            }
        )
    zs = [p["z"] for p in profile]
    for i in range(1, len(zs) - 1):
        if zs[i] > zs[i - 1] and zs[i] >= zs[i + 1]:
            return profile[i]["band_m"], "incremental_moran_first_peak", profile
    return round(float(distances[:, -1].mean()), 1), "no_peak_mean_distance_to_8th_nearest_cell", profile


def population_at(population: dict[int, float] | None, cells: np.ndarray, resolution: int) -> np.ndarray:
    """Residents of each cell from a population dict keyed by H3 cells of any one resolution.

    Finer population cells are summed into their parent; a coarser population cell is split evenly among its
    children at `resolution` (residents assumed uniform inside it).
    """
    import h3.api.numpy_int as h3i

    out = np.zeros(len(cells))
    if not population:
        return out
    source_res = h3i.get_resolution(next(iter(population)))
    index = {int(c): i for i, c in enumerate(np.asarray(cells, dtype=np.uint64).tolist())}
    for cell, residents in population.items():
        if source_res >= resolution:
            target = int(h3i.cell_to_parent(cell, resolution)) if source_res > resolution else int(cell)
            i = index.get(target)
            if i is not None:
                out[i] += residents
        else:
            children = h3i.cell_to_children(cell, resolution)
            share = residents / len(children)
            for child in children:
                i = index.get(int(child))
                if i is not None:
                    out[i] += share
    return out


def hot_spots(
    lon,
    lat,
    *,
    resolution: int | str = GISTAR_RESOLUTION,
    band_m: float | None = None,
    pad_rings: int = PAD_RINGS,
    population: dict[int, float] | None = None,
    per_residents: bool = False,
    min_residents: float = 100.0,
    screen_outliers: bool = True,
    use_fdr: bool = True,
) -> HotspotResult:
    """Gi* hot and cold spots of point incidents aggregated to H3 cells.

    `resolution`: an H3 resolution, or "auto" (finest with enough incidents per cell). `band_m`: the distance
    band in metres, or None to derive it by incremental spatial autocorrelation. Cells are the occupied ones
    plus `pad_rings` rings of empty neighbours. With `per_residents`, the value is incidents per 1,000 residents
    and cells with fewer than `min_residents` are left out (a rate on nobody is noise).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if len(lon) < MIN_INCIDENTS:
        raise InsufficientData(
            f"诉求太少（{len(lon)} 件，至少 {MIN_INCIDENTS} 件） too few incidents: {len(lon)} < {MIN_INCIDENTS}"
        )
    x, y = to_metric(lon, lat)
    outliers = locational_outliers(x, y) if screen_outliers else np.zeros(len(lon), dtype=bool)
    keep = ~outliers
    resolution_method = "given"
    if resolution == "auto":
        resolution = choose_resolution(lon[keep], lat[keep])
        resolution_method = "finest_with_3_per_occupied_cell"
    resolution = int(resolution)

    # The study area is the cells of the screened incidents plus their rings; an outlier counts when it falls in
    # the area and is left out otherwise (alone in its own cell it has no neighbours to be a hot spot with).
    point_cells = points_to_cells(lon, lat, resolution)
    cells = pad_cells(np.unique(point_cells[keep]), pad_rings)
    inside = np.isin(point_cells, cells)
    occupied, counts = np.unique(point_cells[inside], return_counts=True)
    count = np.zeros(len(cells))
    count[np.searchsorted(cells, occupied)] = counts
    residents = population_at(population, cells, resolution)
    if per_residents:
        usable = residents >= min_residents
        cells, count, residents = cells[usable], count[usable], residents[usable]
        values = count / residents * 1000.0
    else:
        values = count
    if len(cells) < MIN_CELLS:
        raise InsufficientData(
            f"单元太少（{len(cells)} 个，至少 {MIN_CELLS} 个） too few cells: {len(cells)} < {MIN_CELLS}"
        )

    clon, clat = cell_centres(cells)
    cx, cy = to_metric(clon, clat)
    profile: list[dict] = []
    if band_m is None:
        band_m, band_method, profile = incremental_band(cx, cy, values)
    else:
        band_method = "given"
    adjacency = band_adjacency(cx, cy, float(band_m))
    z, p = gi_star(values, adjacency)
    bins, cutoffs = fdr_bins(z, p, use_fdr=use_fdr)
    frame = pd.DataFrame(
        {
            "cell": cells,
            "lon": clon,
            "lat": clat,
            "count": count.astype(int),
            "residents": residents,
            "value": values,
            "z": z,
            "p": p,
            "bin": bins,
            "neighbours": np.asarray(adjacency.getnnz(axis=1)) - 1,
        }
    )
    scale = Scale(
        resolution=resolution,
        band_m=float(band_m),
        resolution_method=resolution_method,
        band_method=band_method,
        incidents=int(inside.sum()),
        outliers=int(outliers.sum()),
        cells=len(cells),
        occupied_cells=len(occupied),
        pad_rings=pad_rings,
        moran_profile=profile,
    )
    return HotspotResult(cells=frame, scale=scale, fdr_cutoffs=cutoffs, per_residents=per_residents)
