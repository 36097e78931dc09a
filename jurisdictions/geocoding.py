"""The areas the geocoder reports, from the jurisdiction engine.

geo sits below jurisdictions and must not import it, so jurisdictions hands the geocoder its resolver
(`geo.geocoding.set_area_resolver`) in `JurisdictionsConfig.ready`. A geocoder candidate's district and street
are then the engine's answer for its point — the same codes and names a verdict gives — not the gazetteer's
labels.
"""

from __future__ import annotations

import threading

import numpy as np
from django.utils import timezone

from geo.geocoding import set_area_resolver

# Gazetteer points come back again and again (the same compound, building or house number), and `engine.resolve`
# costs ~0.4 ms for a handful of points — more than the rest of a geocode. Answers are kept per point for one
# engine version and one day (the generation in force), so they are exactly what `resolve` would say now.
MEMO_MAX = 100_000
_memo: dict[tuple[float, float], dict] = {}
_memo_key: tuple | None = None
_memo_lock = threading.Lock()


def candidate_areas(lon: np.ndarray, lat: np.ndarray) -> list[dict]:
    """{district: {code, name} | None, street: {code, name} | None} for each WGS-84 point, today.

    The geometric answer of `engine.resolve` (the lowest covering street, as the database engine's tie rule):
    where a place lies. Who handles a complaint there (a rule in force, a straddling building's shares) is the
    verdict's question, answered when the complaint is taken in. Costs the engine's version check (one indexed
    single-row read) when every point has been answered before in this version, else one `resolve` as well.
    """
    global _memo_key
    # Imported here, not at module level: this module is loaded by ready(), and the engine pulls in numba and
    # the point index, which management commands that never geocode should not pay for at start-up.
    from . import engine

    today = timezone.localdate()
    key = (engine.engine_version(), today)
    points = list(
        zip(np.asarray(lon, dtype=np.float64).tolist(), np.asarray(lat, dtype=np.float64).tolist(), strict=True)
    )
    with _memo_lock:
        if _memo_key != key:
            _memo.clear()
            _memo_key = key
        found = [_memo.get(point) for point in points]
    missing = [i for i, areas in enumerate(found) if areas is None]
    if not missing:
        return found
    resolution = engine.resolve([points[i][0] for i in missing], [points[i][1] for i in missing], at=today)
    answers = {}
    for row, i in enumerate(missing):
        district_code, street_code = str(resolution.district_code[row]), str(resolution.street_code[row])
        areas = {
            "district": {"code": district_code, "name": str(resolution.district_name[row])} if district_code else None,
            "street": {"code": street_code, "name": str(resolution.street_name[row])} if street_code else None,
        }
        found[i] = answers[points[i]] = areas
    with _memo_lock:
        if _memo_key == key:
            if len(_memo) + len(answers) > MEMO_MAX:
                _memo.clear()
            _memo.update(answers)
    return found


def register() -> None:
    """Make `candidate_areas` the geocoder's area resolver (called once, from the app's ready())."""
    set_area_resolver(candidate_areas)
