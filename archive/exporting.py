"""Complaints out to a GeoParquet archive (诉求导出), streamed: never the whole table in memory.

Rows come through a server-side cursor (`QuerySet.iterator`) in received order, `chunk_rows` at a time; each chunk
is split by Beijing month and written as one part file per month it touches. The caller's read scope decides what
is exported (`ComplaintQuerySet.readable_by`, the one read policy); the system principal exports everything.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.db.models import F, FloatField, Func
from django.utils import timezone

from complaints.models import Complaint
from complaints.permissions import actor_scope

from .layout import COLUMNS, PARTITION, empty_folder, months_of, part_path, write_atomically, write_manifest

DEFAULT_CHUNK = 100_000

# Database field → archive column (COLUMNS order); lon/lat become the geometry.
_FIELDS = {
    "pk": "complaint_id",
    "external_id": "external_id",
    "received_at": "received_at",
    "channel": "channel",
    "category__code": "category",
    "category__name": "category_name",
    "category__parent__code": "category_l2",
    "category__parent__name": "category_l2_name",
    "category__parent__parent__code": "category_l1",
    "category__parent__parent__name": "category_l1_name",
    "urgency": "urgency",
    "status": "status",
    "satisfaction": "satisfaction",
    "description": "description",
    "address": "address",
    "location_source": "location_source",
    "input_crs": "input_crs",
    "input_lon": "input_lon",
    "input_lat": "input_lat",
    "accuracy_m": "accuracy_m",
    "confidence": "confidence",
    "deadline_at": "deadline_at",
    "resolved_at": "resolved_at",
    "closed_at": "closed_at",
    "generation_name": "generation",
    "verdict_method": "method",
    "district_code": "district_code",
    "district_name": "district_name",
    "street_code": "street_code",
    "street_name": "street_name",
    "lead_code": "lead_code",
    "lead_name": "lead_name",
    "needs_review": "needs_review",
}
_TIMES = ("received_at", "deadline_at", "resolved_at", "closed_at")
_NUMBERS = ("input_lon", "input_lat", "accuracy_m", "confidence")
assert tuple(_FIELDS.values()) == COLUMNS


@dataclass
class ExportReport:
    """What an export wrote."""

    out: Path
    rows: int = 0
    files: int = 0
    months: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        span = f"{min(self.months)} – {max(self.months)}" if self.months else "—"
        return (
            f"{self.rows} 条诉求 complaints, {len(self.months)} 个月 months ({span}), {self.files} files → {self.out}"
        )


def complaints_export(
    *,
    out: str | Path,
    by: Any,
    received_from: dt.datetime | None = None,
    received_to: dt.datetime | None = None,
    chunk_rows: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write the complaints `by` may read (a user, or `complaints.permissions.SYSTEM` for all) received in
    [received_from, received_to) to a new GeoParquet archive in the folder `out` (new or empty)."""
    scope = actor_scope(by)
    out = empty_folder(Path(out), "导出目录 the export folder")
    complaints = Complaint.objects.all() if scope is None else Complaint.objects.readable_by(scope)
    rows = (
        complaints.received_between(received_from, received_to)
        .annotate(
            # The point's coordinates as numbers: building a GEOS object per row would cost more than the rest.
            lon=Func(F("location"), function="ST_X", output_field=FloatField()),
            lat=Func(F("location"), function="ST_Y", output_field=FloatField()),
        )
        .order_by("received_at", "id")
        .values_list(*_FIELDS, "lon", "lat")
        .iterator(chunk_size=chunk_rows)  # a server-side cursor on PostgreSQL
    )
    report = ExportReport(out=out)
    while chunk := list(itertools.islice(rows, chunk_rows)):
        frame = _frame(chunk)
        for month, part in frame.groupby(PARTITION, sort=False):
            path = part_path(out, month, f"part-{report.files:06d}.parquet")
            part = part.drop(columns=PARTITION)
            write_atomically(path, lambda tmp, part=part: part.to_parquet(tmp, index=False))
            report.files += 1
            report.months[month] += len(part)
        report.rows += len(frame)
        if progress is not None:
            progress(len(frame))
    write_manifest(
        out,
        {
            "what": "shaozi complaints archive 诉求档案",
            "rows": report.rows,
            "months": dict(sorted(report.months.items())),
            "crs": "EPSG:4326",
            "partitioning": f"hive: {PARTITION}=YYYY-MM (Beijing time)",
            "exported_at": timezone.now().isoformat(),
            "exported_by": str(by),
            "received_from": received_from,
            "received_to": received_to,
        },
    )
    return report


def _frame(chunk: list[tuple]) -> gpd.GeoDataFrame:
    names = [*COLUMNS, "lon", "lat"]
    frame = pd.DataFrame.from_records(chunk, columns=names)
    for name in _TIMES:
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    for name in _NUMBERS:
        frame[name] = frame[name].astype("float64")
    frame["complaint_id"] = frame["complaint_id"].astype("int64")
    frame["needs_review"] = frame["needs_review"].astype(bool)
    text = [c for c in COLUMNS if c not in (*_TIMES, *_NUMBERS, "complaint_id", "needs_review")]
    frame[text] = frame[text].fillna("").astype(str)
    geometry = shapely.points(frame.pop("lon").to_numpy(np.float64), frame.pop("lat").to_numpy(np.float64))
    frame[PARTITION] = months_of(frame["received_at"])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
