"""Vectorised validation of a chunk: row-numbered errors, coordinate conversion, times, deadlines, the
boundary generation of each row's day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from config.limits import date_bounds, limit
from geo import coords
from jurisdictions.models import Generation

from ..constants import Channel, LocationSource, Satisfaction, Status, Urgency
from ..deadlines import WorkCalendar
from ..models import Category
from .reading import MAX_TEXT
from .staging import VERDICT_COLUMNS

# --- validation --------------------------------------------------------------------------------------------------


@dataclass
class Reference:
    """What a batch is checked and resolved against, read once per import."""

    categories: dict[str, tuple[int, str, str]]  # code → (id, urgency, department role)
    generations: list[Generation]
    calendar: WorkCalendar
    crs: str
    by: str

    @classmethod
    def load(cls, *, crs: str, by: str) -> Reference:
        from ..services import calendar

        categories = {
            code: (pk, urgency, role)
            for pk, code, urgency, role in Category.objects.leaves()
            .active()
            .values_list("pk", "code", "urgency", "department_role")
        }
        generations = list(Generation.objects.active().order_by("valid_from", "id"))
        return cls(categories=categories, generations=generations, calendar=calendar(), crs=crs, by=by)


@dataclass
class Batch:
    """A validated chunk: the good rows as columns ready for COPY, and the bad rows' errors."""

    good: pd.DataFrame
    bad: dict[int, dict[str, str]] = field(default_factory=dict)  # row → {field: message}
    external_ids: dict[int, str] = field(default_factory=dict)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _choice(values: pd.Series, allowed, default: str) -> tuple[pd.Series, np.ndarray]:
    filled = values.where(values != "", default)
    return filled, ~filled.isin(list(allowed)).to_numpy()


def _parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 text → UTC timestamps; text without an offset is Beijing time."""
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    text = text.where(has_offset | (text == ""), text + "+08:00")
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def _numbers(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)


def validate(frame: pd.DataFrame, first_row: int, ref: Reference, seen: dict[str, int]) -> Batch:
    """Check a chunk column by column; `seen` (external id → row) carries across chunks to catch repeats."""
    n = len(frame)
    rows = np.arange(first_row, first_row + n)
    errors: dict[str, np.ndarray] = {}
    messages: dict[str, str] = {}

    def flag(name: str, mask: np.ndarray, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            errors[name] = errors.get(name, np.zeros(n, bool)) | mask
            messages.setdefault(name, message)

    ext = _column(frame, "external_id")
    flag("external_id", (ext == "").to_numpy(), "必填 required")
    flag("external_id", (ext.str.len() > MAX_TEXT["external_id"]).to_numpy(), "过长 longer than 64")
    duplicate = np.zeros(n, bool)
    first_seen = {}
    for i, value in enumerate(ext.tolist()):
        if not value:
            continue
        if value in seen:
            duplicate[i] = True
            first_seen[i] = seen[value]
        else:
            seen[value] = int(rows[i])
    received = _parse_times(_column(frame, "received_at"))
    flag("received_at", received.isna().to_numpy(), "须为 ISO 8601 时间 must be an ISO 8601 time")
    # Deadlines and generations are computed for every row: one in year 1 or 9999 would fail the whole batch.
    low, high = date_bounds()
    first = pd.Timestamp(low, tz="Asia/Shanghai")
    after_last = pd.Timestamp(high + dt.timedelta(days=1), tz="Asia/Shanghai")
    flag(
        "received_at",
        (received.notna() & ((received < first) | (received >= after_last))).to_numpy(),
        f"须在 must be within {low.isoformat()}..{high.isoformat()}",
    )
    category = _column(frame, "category")
    known = category.map(lambda c: ref.categories.get(c))
    flag("category", known.isna().to_numpy(), "未知分类 unknown third-level category code")
    default_urgency = known.map(lambda k: k[1] if isinstance(k, tuple) else Urgency.GENERAL)
    urgency = _column(frame, "urgency")
    urgency = urgency.where(urgency != "", default_urgency)
    flag("urgency", ~urgency.isin(Urgency.values).to_numpy(), f"须为 must be one of {', '.join(Urgency.values)}")
    channel, bad = _choice(_column(frame, "channel"), Channel.values, Channel.BULK)
    flag("channel", bad, f"须为 must be one of {', '.join(Channel.values)}")
    source, bad = _choice(_column(frame, "location_source"), LocationSource.values, LocationSource.GPS)
    flag("location_source", bad, f"须为 must be one of {', '.join(LocationSource.values)}")
    status = _column(frame, "status")
    flag("status", ~(status.isin(Status.values) | (status == "")).to_numpy(), "未知状态 unknown status")
    satisfaction = _column(frame, "satisfaction")
    flag(
        "satisfaction",
        ~(satisfaction.isin(Satisfaction.values) | (satisfaction == "")).to_numpy(),
        f"须为 must be one of {', '.join(Satisfaction.values)}",
    )
    address = _column(frame, "address")
    flag("address", (address.str.len() > MAX_TEXT["address"]).to_numpy(), "过长 longer than 300")
    description = _column(frame, "description")
    max_description = limit("DESCRIPTION_CHARS")
    flag(
        "description",
        (description.str.len() > max_description).to_numpy(),
        f"过长 longer than {max_description} characters",
    )
    for name, values in (("external_id", ext), ("description", description), ("address", address)):
        # PostgreSQL stores no NUL character (text read from a file is UTF-8, so it holds no lone surrogate).
        flag(name, values.str.contains("\x00", regex=False).to_numpy(), "含 NUL 字符 contains a NUL character")
    if "_geometry_kind" in frame.columns:
        kind = frame["_geometry_kind"].astype(str)
        flag("geometry", (kind != "").to_numpy(), "须为点 must be a Point")
    lon = _numbers(_column(frame, "lon"))
    lat = _numbers(_column(frame, "lat"))
    flag("lon", ~(np.isfinite(lon) & (np.abs(lon) <= 180)), "须为 -180–180 的数 must be a number in -180–180")
    flag("lat", ~(np.isfinite(lat) & (np.abs(lat) <= 90)), "须为 -90–90 的数 must be a number in -90–90")
    crs_text = _column(frame, "crs").where(lambda s: s != "", ref.crs)
    systems = pd.Series("", index=frame.index, dtype=object)
    for value in crs_text.unique():
        try:
            systems[crs_text == value] = coords.normalise_system(value)
        except coords.CoordinateError:
            flag(
                "crs",
                (crs_text == value).to_numpy(),
                f"未知坐标系 unknown coordinate system; use {', '.join(coords.SYSTEMS)}",
            )
    accuracy = _numbers(_column(frame, "accuracy_m"))
    flag(
        "accuracy_m", ~(np.isnan(accuracy) | ((accuracy >= 0) & (accuracy <= 5000))), "须为 0–5000 米 metres in 0–5000"
    )
    confidence = _numbers(_column(frame, "confidence"))
    flag("confidence", ~(np.isnan(confidence) | ((confidence >= 0) & (confidence <= 1))), "须为 0–1 must be in 0–1")

    bad_mask = np.zeros(n, bool)
    for mask in errors.values():
        bad_mask |= mask
    bad_mask |= duplicate
    batch = Batch(good=pd.DataFrame())
    for i in np.flatnonzero(bad_mask):
        row = int(rows[i])
        problems = {name: messages[name] for name, mask in errors.items() if mask[i]}
        if duplicate[i]:
            problems["external_id"] = (
                f"文件内重复，首次出现在第 {first_seen[i]} 行 repeated in the file (first at row {first_seen[i]})"
            )
        batch.bad[row] = problems
        batch.external_ids[row] = ext.iloc[i]
    good = ~bad_mask
    if not good.any():
        return batch

    # Conversion to WGS-84, one vectorised call per coordinate system present.
    wlon, wlat = lon.copy(), lat.copy()
    system_values = systems.to_numpy()
    for system in set(system_values[good]):
        mask = good & (system_values == system)
        wlon[mask], wlat[mask] = coords.to_wgs84(lon[mask], lat[mask], system)
    received_utc = received.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    urgency_values = urgency.to_numpy(dtype=object)
    deadlines = ref.calendar.deadlines(received_utc[good], urgency_values[good].astype(str))
    local_day = (received_utc[good] + np.timedelta64(8, "h")).astype("datetime64[D]")
    gen_id, gen_from, gen_name = _generations(local_day, ref.generations)
    category_info = known[good]
    batch.good = pd.DataFrame(
        {
            "row_no": rows[good],
            "external_id": ext[good].to_numpy(),
            "channel": channel[good].to_numpy(),
            "received_at": _iso(received_utc[good]),
            "category_id": [k[0] for k in category_info],
            "urgency": urgency_values[good],
            "description": description[good].to_numpy(),
            "address": address[good].to_numpy(),
            "lon": wlon[good],
            "lat": wlat[good],
            "in_lon": lon[good],
            "in_lat": lat[good],
            "in_crs": system_values[good],
            "location_source": source[good].to_numpy(),
            "accuracy_m": accuracy[good],
            "confidence": confidence[good],
            "status": status[good].to_numpy(),
            "satisfaction": satisfaction[good].to_numpy(),
            "deadline_at": _iso(deadlines),
            "gen_id": gen_id,
            "gen_from": gen_from,
            "gen_name": gen_name,
            "day": local_day.astype(str),
        }
    )
    for name, _ in VERDICT_COLUMNS:
        batch.good[name] = None
    return batch


def _iso(values: np.ndarray) -> np.ndarray:
    """datetime64 UTC → text PostgreSQL reads as timestamptz."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    return np.char.add(text.astype(str), "+00")


def _generations(local_day: np.ndarray, generations: list[Generation]):
    """For each day, the active generation in force (the latest-starting one): id, valid_from, name."""
    n = len(local_day)
    gen_id = np.full(n, -1, dtype=np.int64)
    gen_from = np.full(n, "", dtype=object)
    gen_name = np.full(n, "", dtype=object)
    for generation in generations:  # later-starting generations come last and overwrite: the latest wins
        start = np.datetime64(generation.valid_from, "D")
        mask = local_day >= start
        if generation.valid_to is not None:
            mask &= local_day < np.datetime64(generation.valid_to, "D")
        gen_id[mask] = generation.pk
        gen_from[mask] = generation.valid_from.isoformat()
        gen_name[mask] = generation.name
    return gen_id, gen_from, gen_name
