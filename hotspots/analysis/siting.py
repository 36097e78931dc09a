"""Park siting: residents newly within a walk of a park if an idle lot became one, and a greedy ranking.

Geometry is in metres (UTM 50N). Residents are points with counts (a population grid's cell centres, or
residential buildings × households). Distances are straight lines to the edge of the park or lot, multiplied by
the detour factor of the rule — no road network is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from hotspots.constants import SitingRule


def within_walk(residents_xy: np.ndarray, geoms_m, radius_m: float) -> list[np.ndarray]:
    """For each geometry, the indices of the resident points within `radius_m` of it (inside counts as 0 m)."""
    points = shapely.points(residents_xy[:, 0], residents_xy[:, 1])
    tree = shapely.STRtree(points)
    geoms_m = np.asarray(geoms_m, dtype=object)
    if len(geoms_m) == 0:
        return []
    geom_index, point_index = tree.query(geoms_m, predicate="dwithin", distance=radius_m)
    order = np.argsort(geom_index, kind="stable")
    geom_index, point_index = geom_index[order], point_index[order]
    bounds = np.searchsorted(geom_index, np.arange(len(geoms_m) + 1))
    return [point_index[bounds[i] : bounds[i + 1]] for i in range(len(geoms_m))]


@dataclass
class Lot:
    """A candidate lot: code, metric geometry, complaint burden, area (m²) and years idle."""

    code: str
    geom_m: object
    complaints: float
    area_m2: float
    years_idle: float


def rank_lots(
    lots: list[Lot],
    residents_xy: np.ndarray,
    residents: np.ndarray,
    parks_m,
    rule: SitingRule | None = None,
) -> list[dict]:
    """Rank lots greedily: at each step the lot with the best weighted score, residents counted at their margin.

    Residents already within the walk of an existing park are never counted; once a lot is picked, its residents
    are served and no later lot counts them again. Each component is divided by its largest value among the
    candidates (residents: the largest gain before any pick), so scores are comparable between steps.
    Returns one dict per lot, best first, with every figure that produced its rank.
    """
    rule = rule or SitingRule()
    residents = np.asarray(residents, dtype=float)
    residents_xy = np.asarray(residents_xy, dtype=float).reshape(-1, 2)
    served = np.zeros(len(residents), dtype=bool)
    for near in within_walk(residents_xy, list(parks_m), rule.radius_m):
        served[near] = True
    reach = within_walk(residents_xy, [lot.geom_m for lot in lots], rule.radius_m)
    alone = np.array([residents[r][~served[r]].sum() for r in reach]) if lots else np.empty(0)

    def largest(values) -> float:
        top = float(np.max(values)) if len(values) else 0.0
        return top if top > 0 else 1.0

    norms = {
        "residents": largest(alone),
        "complaints": largest([lot.complaints for lot in lots]),
        "size": largest([lot.area_m2 for lot in lots]),
        "years_idle": largest([lot.years_idle for lot in lots]),
    }
    weights = rule.weights
    remaining = list(range(len(lots)))
    ranking: list[dict] = []
    while remaining:
        best, best_key, best_row = None, None, None
        for i in remaining:
            lot = lots[i]
            marginal = float(residents[reach[i]][~served[reach[i]]].sum())
            raw = {
                "residents": marginal,
                "complaints": float(lot.complaints),
                "size": float(lot.area_m2),
                "years_idle": float(lot.years_idle),
            }
            normalised = {k: raw[k] / norms[k] for k in raw}
            weighted = {k: weights[k] * normalised[k] for k in raw}
            score = sum(weighted.values())
            key = (round(score, 12), -i)  # ties: the earlier lot in the input order (stable, by code)
            if best_key is None or key > best_key:
                best, best_key = i, key
                best_row = {"raw": raw, "normalised": normalised, "weighted": weighted, "score": score}
        lot = lots[best]
        ranking.append(
            {
                "code": lot.code,
                "rank": len(ranking) + 1,
                "score": round(best_row["score"], 6),
                "residents_new": round(best_row["raw"]["residents"], 1),
                "residents_new_alone": round(float(alone[best]), 1),
                "residents_in_walk": round(float(residents[reach[best]].sum()), 1),
                "residents_already_served": round(float(residents[reach[best]][served[reach[best]]].sum()), 1),
                "complaints": best_row["raw"]["complaints"],
                "area_m2": round(best_row["raw"]["size"], 1),
                "years_idle": round(best_row["raw"]["years_idle"], 2),
                "components": {k: round(v, 6) for k, v in best_row["normalised"].items()},
                "weighted": {k: round(v, 6) for k, v in best_row["weighted"].items()},
                "weights": dict(weights),
                "normalisers": {k: round(v, 3) for k, v in norms.items()},
            }
        )
        served[reach[best]] = True
        remaining.remove(best)
    return ranking
