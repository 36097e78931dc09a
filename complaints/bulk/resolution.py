"""The verdict of every row, from the jurisdiction engine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from jurisdictions import engine

from .staging import VERDICT_COLUMNS


def resolve_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Verdict columns for every row, from the jurisdiction engine (`jurisdictions.engine.resolve`): the geometric
    answer where it is the verdict; the engine's full verdict (kept as JSON, with lead, co-handlers and review)
    where it is not — a rule in force on the row's day, a building footprint, a boundary, an accuracy circle
    reaching one, or a point outside every area."""
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    accuracy = frame["accuracy_m"].to_numpy(dtype=float)
    resolution = engine.resolve(lon, lat, at=frame["day"].to_numpy().astype("datetime64[D]"), accuracy_m=accuracy)
    out = frame.copy()
    for column in ("district_code", "district_name", "street_code", "street_name"):
        values = np.asarray(getattr(resolution, column), dtype=object)
        out[column] = np.where(values == "", None, values)
    out["on_boundary"] = False
    rows = np.flatnonzero(resolution.needs_full)
    if not len(rows):
        return out
    values: dict[str, list] = {name: [] for name, _ in VERDICT_COLUMNS}
    for i in rows.tolist():
        echo = {"lon": frame["in_lon"].iat[i], "lat": frame["in_lat"].iat[i], "crs": frame["in_crs"].iat[i]}
        verdict = resolution.verdict(i, input=echo).as_dict()
        district, street, lead = verdict["district"] or {}, verdict["street"] or {}, verdict["lead"] or {}
        for name, value in (
            ("district_code", district.get("code")),
            ("district_name", district.get("name")),
            ("street_code", street.get("code")),
            ("street_name", street.get("name")),
            ("on_boundary", bool(verdict["on_boundary"])),
            ("method", verdict["method"]),
            ("lead_code", lead.get("code")),
            ("lead_name", lead.get("name")),
            ("lead_level", lead.get("level")),
            ("co_handlers", json.dumps(verdict["co_handlers"], ensure_ascii=False)),
            ("verdict", json.dumps(verdict, ensure_ascii=False)),
            ("review", bool(verdict["needs_review"])),
        ):
            values[name].append(value)
    for name, column in values.items():
        if name not in out.columns or name == "on_boundary":
            out[name] = out[name].astype(object) if name in out.columns else None
        out.iloc[rows, out.columns.get_loc(name)] = pd.Series(column, dtype=object).to_numpy()
    return out
