"""Emerging hot spots: a space-time cube of H3 cells × weeks (or months), Gi* per bin, Mann-Kendall per cell.

Each bin's neighbourhood is the cells within the distance band in the same time step and the `time_lags`
steps before it (Esri's "neighbourhood time step"); the mean and spread are those of the whole cube. Gi* comes
from esda over that space-time graph; significant bins are found with the Benjamini–Hochberg FDR over all bins;
each cell's z-series gets a Mann-Kendall trend test; the 17 patterns follow Esri's published definitions (see
docs/hotspots.md for the wording and the order in which overlapping definitions are applied).
"""

from __future__ import annotations

from dataclasses import dataclass

import esda
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from hotspots.constants import (
    EMERGING_PERSISTENT_SHARE,
    EMERGING_SIGNIFICANCE,
    EMERGING_TIME_LAGS,
    EMERGING_TREND_SIGNIFICANCE,
    GISTAR_RESOLUTION,
    EmergingPattern,
)

from . import InsufficientData
from .cells import band_adjacency, cell_centres, points_to_cells, to_metric
from .gistar import gi_star


def time_steps(received_at: pd.Series, *, start: pd.Timestamp, step: str = "week") -> np.ndarray:
    """The 0-based time step of each timestamp: whole weeks since `start`, or calendar months since its month."""
    received_at = pd.to_datetime(received_at, utc=True)
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    if step == "week":
        return np.floor((received_at - start) / pd.Timedelta(days=7)).to_numpy().astype(int)
    if step == "month":
        return ((received_at.dt.year - start.year) * 12 + (received_at.dt.month - start.month)).to_numpy()
    raise ValueError(f"step must be week or month, not {step!r}")


def space_time_adjacency(spatial: sp.spmatrix, n_steps: int, time_lags: int) -> sp.csr_matrix:
    """Binary adjacency over bins ordered time-major (bin = t × n_cells + i): spatial neighbours (with self) in the
    same step and in each of the `time_lags` steps before it."""
    temporal = sp.eye(n_steps, format="csr")
    for lag in range(1, time_lags + 1):
        temporal = temporal + sp.eye(n_steps, k=-lag, format="csr")
    return sp.kron(temporal, sp.csr_matrix(spatial), format="csr")


def mann_kendall(series: np.ndarray, *, decimals: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row of `series` (cells × steps): S, z and two-sided p, ties corrected.

    Values are rounded to `decimals` first so z-scores that differ only by floating-point noise count as ties.
    Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over groups of t tied values; z uses the continuity correction
    (S − 1 for S > 0, S + 1 for S < 0).
    """
    x = np.round(np.atleast_2d(np.asarray(series, dtype=float)), decimals)
    m, n = x.shape
    s = np.zeros(m)
    for lag in range(1, n):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    starts = np.ones((m, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run_id = np.cumsum(starts.ravel()) - 1
    lengths = np.bincount(run_id).astype(float)
    run_row = np.flatnonzero(starts.ravel()) // n
    ties = np.bincount(run_row, weights=lengths * (lengths - 1) * (2 * lengths + 5), minlength=m)
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(variance), np.where(s < 0, (s + 1) / np.sqrt(variance), 0.0))
    z = np.nan_to_num(z)
    p = 2 * stats.norm.sf(np.abs(z))
    return s, z, p


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the uninterrupted run of True at the end of each row."""
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


def classify(
    hot: np.ndarray,
    cold: np.ndarray,
    trend_z: np.ndarray,
    trend_p: np.ndarray,
    *,
    trend_alpha: float = EMERGING_TREND_SIGNIFICANCE,
    share: float = EMERGING_PERSISTENT_SHARE,
) -> np.ndarray:
    """The emerging pattern of each row (cell) from its significant hot/cold bins and the trend of its z-series.

    `hot`/`cold`: boolean cells × steps. The final bin decides the side: a cell that is a hot spot in the last
    step gets a hot pattern, a cold spot a cold pattern; a cell not significant in the last step can only be a
    historical hot/cold spot (≥ 90 % of steps hot/cold). Then, for the side:
    ≥ 90 % of steps → intensifying (significant trend towards the side), diminishing (significant trend away),
    else persistent; otherwise → oscillating if ever significant on the other side before, new if this is its
    only significant bin, consecutive if its only significant bins are a final run of ≥ 2, sporadic otherwise.
    """
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    cold = np.atleast_2d(np.asarray(cold, dtype=bool))
    trend_z = np.atleast_1d(np.asarray(trend_z, dtype=float))
    trend_p = np.atleast_1d(np.asarray(trend_p, dtype=float))
    n = hot.shape[1]
    result = np.full(hot.shape[0], EmergingPattern.NONE.value, dtype=object)
    up = (trend_p < trend_alpha) & (trend_z > 0)
    down = (trend_p < trend_alpha) & (trend_z < 0)
    for same, other, towards, away, names in (
        (hot, cold, up, down, "hot"),
        (cold, hot, down, up, "cold"),
    ):
        count = same.sum(axis=1)
        mostly = count >= share * n
        final = same[:, -1]
        run = _final_run(same)
        earlier = count - run  # significant on this side before the final run
        ever_other = other.any(axis=1)

        def put(mask, pattern, names=names):
            result[mask] = f"{pattern}_{names}"

        put(mostly & ~final & ~other[:, -1], "historical")
        put(mostly & final & towards, "intensifying")
        put(mostly & final & away, "diminishing")
        put(mostly & final & ~towards & ~away, "persistent")
        rest = final & ~mostly
        put(rest & ever_other, "oscillating")
        put(rest & ~ever_other & (earlier == 0) & (run == 1), "new")
        put(rest & ~ever_other & (earlier == 0) & (run >= 2), "consecutive")
        put(rest & ~ever_other & (earlier > 0), "sporadic")
    return result


@dataclass
class EmergingResult:
    """Per cell: pattern, trend, counts of hot/cold steps, the z-series; and the cube's shape and settings."""

    cells: pd.DataFrame
    settings: dict

    def summary(self) -> dict:
        counts = self.cells["pattern"].value_counts().to_dict()
        return {**self.settings, "patterns": {p.value: int(counts.get(p.value, 0)) for p in EmergingPattern}}


def emerging_hot_spots(
    lon,
    lat,
    received_at,
    *,
    start,
    n_steps: int,
    step: str = "week",
    resolution: int = GISTAR_RESOLUTION,
    band_m: float | None = None,
    time_lags: int = EMERGING_TIME_LAGS,
    alpha: float = EMERGING_SIGNIFICANCE,
    trend_alpha: float = EMERGING_TREND_SIGNIFICANCE,
) -> EmergingResult:
    """Emerging hot spot analysis of point incidents over `n_steps` weeks or months from `start`.

    The cube holds every cell with at least one incident in the period (and no others: a location with no data
    has no trend). `band_m` defaults to the distance that reaches the first ring of neighbours (≈ 1.1 × the
    centre spacing of the resolution).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    t = time_steps(pd.Series(received_at), start=start, step=step)
    inside = (t >= 0) & (t < n_steps)
    lon, lat, t = lon[inside], lat[inside], t[inside]
    if len(lon) == 0:
        raise InsufficientData("时段内没有诉求 no incidents in the period")
    return emerging_from_counts(
        points_to_cells(lon, lat, resolution),
        t,
        np.ones(len(t)),
        start=start,
        n_steps=n_steps,
        step=step,
        resolution=resolution,
        band_m=band_m,
        time_lags=time_lags,
        alpha=alpha,
        trend_alpha=trend_alpha,
    )


def emerging_from_counts(
    cells,
    steps,
    counts,
    *,
    start,
    n_steps: int,
    step: str = "week",
    resolution: int = GISTAR_RESOLUTION,
    band_m: float | None = None,
    time_lags: int = EMERGING_TIME_LAGS,
    alpha: float = EMERGING_SIGNIFICANCE,
    trend_alpha: float = EMERGING_TREND_SIGNIFICANCE,
) -> EmergingResult:
    """Emerging hot spots from incident counts already aggregated per (H3 cell, time step) — as a Dask groupby over
    an archive gives them (`hotspots.cube`); `emerging_hot_spots` counts points into the same cube first.

    `cells` (uint64 H3 cells at `resolution`), `steps` (0-based, within `n_steps`) and `counts` are arrays of equal
    length; a (cell, step) may appear more than once (counts add up).
    """
    cells = np.asarray(cells, dtype=np.uint64)
    t = np.asarray(steps, dtype=np.int64)
    counts = np.asarray(counts, dtype=float)
    if not len(cells) or counts.sum() == 0:
        raise InsufficientData("时段内没有诉求 no incidents in the period")
    cells, cell_index = np.unique(cells, return_inverse=True)
    n_cells = len(cells)
    if n_steps < 10:
        raise InsufficientData(f"时间步太少（{n_steps}，至少 10） too few time steps: {n_steps} < 10")
    cube = np.zeros((n_steps, n_cells))
    np.add.at(cube, (t, cell_index), counts)
    clon, clat = cell_centres(cells)
    cx, cy = to_metric(clon, clat)
    if band_m is None:
        import h3

        band_m = 1.1 * np.sqrt(3) * h3.average_hexagon_edge_length(resolution, unit="m")
    spatial = band_adjacency(cx, cy, float(band_m))
    adjacency = space_time_adjacency(spatial, n_steps, time_lags)
    z, p = gi_star(cube.ravel(), adjacency)
    z = z.reshape(n_steps, n_cells).T
    p = p.reshape(n_steps, n_cells).T
    cutoff = float(esda.fdr(p.ravel(), alpha))
    significant = p < cutoff
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    _, trend_z, trend_p = mann_kendall(z)
    patterns = classify(hot, cold, trend_z, trend_p, trend_alpha=trend_alpha)
    frame = pd.DataFrame(
        {
            "cell": cells,
            "lon": clon,
            "lat": clat,
            "pattern": patterns,
            "trend_z": trend_z,
            "trend_p": trend_p,
            "hot_steps": hot.sum(axis=1),
            "cold_steps": cold.sum(axis=1),
            "final_z": z[:, -1],
            "count": cube.sum(axis=0).astype(int),
            "recent_count": cube[-4:].sum(axis=0).astype(int),
        }
    )
    frame["z_series"] = list(np.round(z, 3))
    settings = {
        "resolution": resolution,
        "band_m": round(float(band_m), 1),
        "step": step,
        "n_steps": n_steps,
        "start": str(pd.Timestamp(start).date()),
        "time_lags": time_lags,
        "alpha": alpha,
        "fdr_cutoff": cutoff,
        "trend_alpha": trend_alpha,
        "cells": n_cells,
        "bins": n_cells * n_steps,
        "incidents": int(counts.sum()),
    }
    return EmergingResult(cells=frame, settings=settings)
