"""Repeat places (高频点位): complaints of one category at the same place, chronic ones and failed fixes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.constants import RepeatRule

from .cells import cell_hex, points_to_cells, to_metric

DAY = pd.Timedelta(days=1)


def place_keys(frame: pd.DataFrame, rule: RepeatRule) -> tuple[pd.Series, pd.Series]:
    """The place of each complaint and its kind: building code, else parcel code, else H3 cell / DBSCAN cluster.

    A `parcel_code` column is used when present (complaints inside a known parcel). DBSCAN runs per category on
    metric coordinates with `min_samples=1`, so every complaint belongs to a cluster and clusters chain through
    complaints closer than `radius_m`.
    """
    building = frame.get("building_code", pd.Series("", index=frame.index)).fillna("").astype(str)
    parcel = frame.get("parcel_code", pd.Series("", index=frame.index)).fillna("").astype(str)
    keys = pd.Series("", index=frame.index, dtype=object)
    kinds = pd.Series("", index=frame.index, dtype=object)
    has_building = building != ""
    keys[has_building] = "building:" + building[has_building]
    kinds[has_building] = "building"
    has_parcel = ~has_building & (parcel != "")
    keys[has_parcel] = "parcel:" + parcel[has_parcel]
    kinds[has_parcel] = "parcel"
    rest = ~has_building & ~has_parcel
    if rest.any():
        sub = frame[rest]
        if rule.method == "h3":
            cells = points_to_cells(sub["lon"].to_numpy(), sub["lat"].to_numpy(), rule.h3_resolution)
            keys[rest] = ["h3:" + h for h in cell_hex(cells)]
            kinds[rest] = "h3"
        elif rule.method == "dbscan":
            from sklearn.cluster import DBSCAN

            x, y = to_metric(sub["lon"].to_numpy(), sub["lat"].to_numpy())
            labels = np.empty(len(sub), dtype=object)
            categories = sub["category_code"].to_numpy()
            for category in np.unique(categories):
                mask = categories == category
                found = DBSCAN(eps=rule.radius_m, min_samples=1).fit_predict(np.column_stack([x[mask], y[mask]]))
                labels[mask] = [f"dbscan:{category}:{label}" for label in found]
            keys[rest] = labels
            kinds[rest] = "dbscan"
        else:
            raise ValueError(f"method must be h3 or dbscan, not {rule.method!r}")
    return keys, kinds


def failed_fixes(received: np.ndarray, closed: np.ndarray, days: float) -> np.ndarray:
    """For each report (received times, sorted or not), whether it came within `days` after an earlier closure.

    A closure counts when it happened strictly before the report (0 < gap) and the gap is at most `days`; the
    latest such closure is the one that matters. Times are numpy datetime64 (NaT = never closed).
    """
    received = received.astype("datetime64[ns]")
    closures = np.sort(closed.astype("datetime64[ns]")[~np.isnat(closed.astype("datetime64[ns]"))])
    if len(closures) == 0:
        return np.zeros(len(received), dtype=bool)
    position = np.searchsorted(closures, received, side="left") - 1  # last closure strictly before each report
    has = position >= 0
    gap = np.full(len(received), np.timedelta64(10**6, "D"), dtype="timedelta64[ns]")
    gap[has] = received[has] - closures[position[has]]
    return has & (gap <= np.timedelta64(int(days * 86400 * 10**9), "ns"))


def _mode_latest(values: pd.Series, received: pd.Series) -> str:
    """The most frequent non-empty value; ties go to the value of the latest report."""
    present = values[values.fillna("") != ""]
    if present.empty:
        return ""
    counts = present.value_counts()
    top = counts[counts == counts.max()].index
    if len(top) == 1:
        return str(top[0])
    latest = received[present.index][present.isin(top)].idxmax()
    return str(values[latest])


def repeat_places(frame: pd.DataFrame, *, rule: RepeatRule | None = None, end=None) -> pd.DataFrame:
    """Repeat places of the complaints in the window (end − window_days, end], one row per category and place.

    Columns: category_code, category_name, department_role, place_kind, place_key, lon, lat, count, first_at,
    last_at, span_days, chronic, failed_fix, failed_fix_count, street_code, street_name, district_code, refs.
    """
    rule = rule or RepeatRule()
    columns = [
        "category_code",
        "category_name",
        "department_role",
        "place_kind",
        "place_key",
        "lon",
        "lat",
        "count",
        "first_at",
        "last_at",
        "span_days",
        "chronic",
        "failed_fix",
        "failed_fix_count",
        "street_code",
        "street_name",
        "district_code",
        "refs",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.copy()
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    end = frame["received_at"].max() if end is None else pd.Timestamp(end)
    end = end.tz_localize("UTC") if end.tzinfo is None else end
    frame = frame[(frame["received_at"] > end - rule.window_days * DAY) & (frame["received_at"] <= end)]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["place_key"], frame["place_kind"] = place_keys(frame, rule)
    sizes = frame.groupby(["category_code", "place_key"])["ref"].transform("size")
    frame = frame[sizes >= rule.min_reports].sort_values("received_at")
    rows = []
    for (category, key), group in frame.groupby(["category_code", "place_key"], sort=True):
        received = group["received_at"]
        span = (received.iloc[-1] - received.iloc[0]) / DAY
        failed = failed_fixes(
            received.dt.tz_convert(None).to_numpy(),
            group["closed_at"].dt.tz_convert(None).to_numpy(),
            rule.failed_fix_days,
        )
        rows.append(
            {
                "category_code": category,
                "category_name": group["category_name"].iloc[-1],
                "department_role": _mode_latest(group["department_role"], received),
                "place_kind": group["place_kind"].iloc[0],
                "place_key": key,
                "lon": float(group["lon"].mean()),
                "lat": float(group["lat"].mean()),
                "count": len(group),
                "first_at": received.iloc[0],
                "last_at": received.iloc[-1],
                "span_days": float(span),
                "chronic": bool(len(group) >= rule.chronic_min_reports and span >= rule.chronic_min_span_days),
                "failed_fix": bool(failed.any()),
                "failed_fix_count": int(failed.sum()),
                "street_code": _mode_latest(group["street_code"], received),
                "street_name": "",
                "district_code": "",
                "refs": [str(r) for r in group["ref"]],
            }
        )
        street = rows[-1]["street_code"]
        same = group[group["street_code"] == street]
        if not same.empty:
            rows[-1]["street_name"] = str(same["street_name"].iloc[-1])
            rows[-1]["district_code"] = str(same["district_code"].iloc[-1])
    return pd.DataFrame(rows, columns=columns)
