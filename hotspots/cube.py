"""The emerging hot-spot space-time cube counted on Dask over a GeoParquet archive (cell × week).

Each partition of the archive becomes (H3 cell, time step) keys with the same functions the in-process analysis
uses (`analysis.cells.points_to_cells`, `analysis.emerging.time_steps`); a Dask groupby counts them; only the
aggregated cube — occupied cells × steps, a few million numbers for a year of Beijing — comes back to this
process, where `services.emerging_compute(counts=…)` runs the unchanged analysis on it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from archive.layout import read_archive

from .analysis.cells import points_to_cells
from .analysis.emerging import time_steps
from .constants import GISTAR_RESOLUTION

_KEYS = pd.DataFrame({"cell": pd.Series(dtype="uint64"), "step": pd.Series(dtype="int64")})


def _keys(part, *, start: pd.Timestamp, n_steps: int, step: str, resolution: int, category: str) -> pd.DataFrame:
    """(cell, step) of each point of a partition inside the period (and under `category`, a code prefix)."""
    geoms = np.asarray(part.geometry.values, dtype=object)
    keep = shapely.get_type_id(geoms) == 0
    if category:
        keep &= part["category"].astype(str).str.startswith(category).to_numpy()
    t = time_steps(pd.Series(part["received_at"].to_numpy()), start=start, step=step)
    keep &= (t >= 0) & (t < n_steps)
    cells = points_to_cells(shapely.get_x(geoms[keep]), shapely.get_y(geoms[keep]), resolution)
    return pd.DataFrame({"cell": cells.astype(np.uint64), "step": t[keep].astype(np.int64)})


def archive_cube(
    archive,
    *,
    start: dt.date,
    n_steps: int,
    step: str = "week",
    resolution: int = GISTAR_RESOLUTION,
    category: str = "",
    client=None,
    progress: bool = False,
) -> pd.DataFrame:
    """Incidents per (H3 cell, step) over the archive, counted by a Dask groupby: columns `cell`, `step`, `count`.

    The period is `n_steps` weeks (or months) from `start`, a Beijing date, as in the in-process run. `client`:
    the Dask client to compute on (default: the current one, or Dask's local scheduler).
    """
    frame = read_archive(archive, columns=["received_at", "category", "geometry"])
    keys = frame.map_partitions(
        _keys,
        start=pd.Timestamp(start, tz="Asia/Shanghai"),
        n_steps=n_steps,
        step=step,
        resolution=resolution,
        category=category,
        meta=_KEYS,
    )
    counts = keys.groupby(["cell", "step"]).size()
    if client is None:
        result = counts.compute()
    else:
        future = client.compute(counts)
        if progress:
            from distributed import progress as progress_bar

            progress_bar(future)
        result = future.result()
    frame = result.rename("count").reset_index()
    return frame.astype({"cell": np.uint64, "step": np.int64, "count": np.int64})
