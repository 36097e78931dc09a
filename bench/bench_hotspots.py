"""Time Gi* + FDR on 1 M complaints at H3 resolution 9, and the emerging hot spot cube for 52 weeks.

    .venv/bin/python bench/bench_hotspots.py [--complaints 1000000]

Complaints are the synthetic demo generator's (hotspots/demo.py: spread by the population grid, plus idle-land,
chronic and emerging clusters), no database. Prints seconds per step; targets: Gi* + FDR ≤ 10 s, cube ≤ 60 s.
For comparison it also times the usual way of building the weights (libpysal DistanceBand → W) on the same
cells, which is what the direct sparse construction replaces.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from hotspots import demo  # noqa: E402
from hotspots.analysis import emerging, gistar  # noqa: E402
from hotspots.analysis.cells import to_metric  # noqa: E402


def timed(label: str, fn):
    began = time.perf_counter()
    result = fn()
    print(f"{label:<58} {time.perf_counter() - began:8.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = timed(
        f"generate {args.complaints:,} synthetic complaints",
        lambda: demo.synthetic_complaints(background=args.complaints, streets=False),
    )
    start = pd.Timestamp(demo.DEMO_START, tz="Asia/Shanghai")
    year = frame[frame["received_at"] >= start.tz_convert("UTC")].reset_index(drop=True)
    lon, lat = year["lon"].to_numpy(), year["lat"].to_numpy()
    print(f"complaints in the 52 weeks: {len(year):,}")

    fixed = timed("Gi* + FDR, res 9, band 500 m (given)", lambda: gistar.hot_spots(lon, lat, band_m=500.0))
    print(f"  cells {fixed.scale.cells:,}, occupied {fixed.scale.occupied_cells:,}, bins {fixed.summary()['bins']}")
    derived = timed("Gi* + FDR, res 9, band derived (incremental Moran)", lambda: gistar.hot_spots(lon, lat))
    print(f"  band {derived.scale.band_m:.0f} m ({derived.scale.band_method}), bins {derived.summary()['bins']}")

    cells = fixed.cells
    x, y = to_metric(cells["lon"], cells["lat"])

    def libpysal_weights():
        from libpysal.weights import DistanceBand

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DistanceBand(np.column_stack([x, y]), threshold=500.0, binary=True, silence_warnings=True)

    timed("  peer: libpysal DistanceBand W on the same cells (weights only)", libpysal_weights)

    cube = timed(
        "emerging cube, res 9, 52 weeks (Gi* per bin, FDR, Mann-Kendall, patterns)",
        lambda: emerging.emerging_hot_spots(lon, lat, year["received_at"], start=start, n_steps=52),
    )
    summary = cube.summary()
    print(f"  cells {summary['cells']:,}, bins {summary['bins']:,}")
    print(f"  patterns { {k: v for k, v in summary['patterns'].items() if v} }")


if __name__ == "__main__":
    main()
