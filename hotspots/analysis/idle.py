"""Idle land: which complaints an idle lot causes (dust, illegal building, garbage, unlicensed business)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from hotspots.constants import IDLE_LAND_ROLES, IdleLandRole

from .cells import to_metric


def idle_role(code: str, name: str, roles: tuple[IdleLandRole, ...] = IDLE_LAND_ROLES) -> str:
    """The idle-land role of a category ("" when none): by code prefix, else by a pattern in its name."""
    code = code or ""
    name = name or ""
    for role in roles:
        if any(code.startswith(prefix) for prefix in role.code_prefixes):
            return role.role
    for role in roles:
        if any(re.search(pattern, name) for pattern in role.name_patterns):
            return role.role
    return ""


def roles_of(frame: pd.DataFrame, roles: tuple[IdleLandRole, ...] = IDLE_LAND_ROLES) -> pd.Series:
    """The idle-land role of each complaint (computed once per distinct category)."""
    pairs = frame[["category_code", "category_name"]].drop_duplicates()
    lookup = {(c, n): idle_role(c, n, roles) for c, n in pairs.itertuples(index=False)}
    return pd.Series(
        [lookup[(c, n)] for c, n in zip(frame["category_code"], frame["category_name"], strict=True)],
        index=frame.index,
        dtype=object,
    )


def metric_geometries(geoms_wgs84) -> np.ndarray:
    """Shapely geometries in WGS-84 → the same in UTM 50N metres."""

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = to_metric(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms_wgs84, dtype=object), project)


def link_to_parcels(
    frame: pd.DataFrame,
    parcel_codes,
    parcel_geoms_wgs84,
    *,
    roles: tuple[IdleLandRole, ...] = IDLE_LAND_ROLES,
) -> pd.DataFrame:
    """Each idle-land complaint linked to its nearest parcel within its role's radius (0 m when inside it).

    Returns ref, parcel_code, role, category_code, category_name, received_at, year, distance_m. Complaints of
    other categories, or farther than the radius from every parcel, are not linked.
    """
    columns = ["ref", "parcel_code", "role", "category_code", "category_name", "received_at", "year", "distance_m"]
    parcel_codes = np.asarray(list(parcel_codes), dtype=object)
    if frame.empty or len(parcel_codes) == 0:
        return pd.DataFrame(columns=columns)
    role = roles_of(frame, roles)
    tree = shapely.STRtree(metric_geometries(parcel_geoms_wgs84))
    parts = []
    for spec in roles:
        sub = frame[role == spec.role]
        if sub.empty:
            continue
        x, y = to_metric(sub["lon"].to_numpy(), sub["lat"].to_numpy())
        points = shapely.points(x, y)
        (which, nearest), distances = tree.query_nearest(
            points, max_distance=spec.radius_m, return_distance=True, all_matches=False
        )
        if len(which) == 0:
            continue
        picked = sub.iloc[which]
        received = pd.to_datetime(picked["received_at"], utc=True)
        parts.append(
            pd.DataFrame(
                {
                    "ref": picked["ref"].astype(str).to_numpy(),
                    "parcel_code": parcel_codes[nearest],
                    "role": spec.role,
                    "category_code": picked["category_code"].to_numpy(),
                    "category_name": picked["category_name"].to_numpy(),
                    "received_at": received.to_numpy(),
                    "year": received.dt.tz_convert("Asia/Shanghai").dt.year.to_numpy(),
                    "distance_m": np.round(distances, 1),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def counts_per_year(links: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{parcel_code: {year: count}} of linked complaints."""
    if links.empty:
        return {}
    table = links.groupby(["parcel_code", "year"]).size()
    out: dict[str, dict[str, int]] = {}
    for (code, year), count in table.items():
        out.setdefault(str(code), {})[str(int(year))] = int(count)
    return out


def parcel_of_points(frame: pd.DataFrame, parcel_codes, parcel_geoms_wgs84) -> pd.Series:
    """The code of the parcel each complaint lies in ("" when none), for grouping repeat places by parcel."""
    parcel_codes = np.asarray(list(parcel_codes), dtype=object)
    out = pd.Series("", index=frame.index, dtype=object)
    if frame.empty or len(parcel_codes) == 0:
        return out
    tree = shapely.STRtree(np.asarray(parcel_geoms_wgs84, dtype=object))
    points = shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    point_index, parcel_index = tree.query(points, predicate="within")
    out.iloc[point_index] = parcel_codes[parcel_index]
    return out
