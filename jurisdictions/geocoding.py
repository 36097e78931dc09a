"""The areas the geocoder reports, from the jurisdiction engine.

geo sits below jurisdictions and must not import it, so jurisdictions hands the geocoder its resolver
(`geo.geocoding.set_area_resolver`) in `JurisdictionsConfig.ready`. A geocoder candidate's district and street
are then the engine's answer for its point — the same codes and names a verdict gives — not the gazetteer's
labels.
"""

from __future__ import annotations

import numpy as np

from geo.geocoding import set_area_resolver

from . import engine


def candidate_areas(lon: np.ndarray, lat: np.ndarray) -> list[dict]:
    """{district: {code, name} | None, street: {code, name} | None} for each WGS-84 point, today.

    The geometric answer of `engine.resolve` (the lowest covering street, as the database engine's tie rule):
    where a place lies. Who handles a complaint there (a rule in force, a straddling building's shares) is the
    verdict's question, answered when the complaint is taken in.
    """
    resolution = engine.resolve(lon, lat)
    out = []
    for district_code, district_name, street_code, street_name in zip(
        resolution.district_code,
        resolution.district_name,
        resolution.street_code,
        resolution.street_name,
        strict=True,
    ):
        out.append(
            {
                "district": {"code": str(district_code), "name": str(district_name)} if district_code else None,
                "street": {"code": str(street_code), "name": str(street_name)} if street_code else None,
            }
        )
    return out


def register() -> None:
    """Make `candidate_areas` the geocoder's area resolver (called once, from the app's ready())."""
    set_area_resolver(candidate_areas)
