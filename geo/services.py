"""Writes to the gazetteer: loading places and their names from a GeoJSON file (idempotent by external id)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import transaction

from .address import normalise
from .geocoding import gazetteer_cache_clear
from .models import Place, PlaceKind, PlaceName

_FIELDS = (
    "kind",
    "name",
    "district",
    "street",
    "number",
    "size_m",
    "measure_from",
    "measure_to",
    "number_max",
    "synthetic",
    "source",
)


class GazetteerLoadError(Exception):
    """The file cannot be loaded; `errors` lists (feature number, message), numbered from 1."""

    def __init__(self, message: str, errors: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass
class GazetteerLoadReport:
    created: int = 0
    updated: int = 0
    removed: int = 0
    names: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.kinds.items()))
        return (
            f"地名 places: {self.created} new, {self.updated} updated, {self.removed} removed ({kinds}); "
            f"名称 names: {self.names}"
        )


def _place_from(props: dict, geometry: dict, number: int) -> tuple[Place, list[str], str | None]:
    try:
        geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    except (TypeError, ValueError) as exc:
        raise GazetteerLoadError(f"feature {number}: bad geometry", [(number, str(exc))]) from exc
    point_xy = props.get("point")
    if point_xy:
        point = Point(float(point_xy[0]), float(point_xy[1]), srid=4326)
    else:
        point = geom.point_on_surface
        point.srid = 4326
    place = Place(external_id=str(props.get("external_id") or ""), geom=geom, point=point)
    for name in _FIELDS:
        value = props.get(name)
        if value is None:
            continue
        setattr(place, name, value)
    aliases = [str(a) for a in props.get("aliases") or []]
    return place, aliases, props.get("parent")


@transaction.atomic
def gazetteer_load(
    *, source: Path, prune: bool = False, progress: Callable[[int, int], None] | None = None
) -> GazetteerLoadReport:
    """Load (or reload) places from a GeoJSON FeatureCollection written like fixtures/build_gazetteer.py does.

    Properties: external_id (required, stable), kind, name, aliases[], district, street, parent (an external id
    in the same file or already loaded), number, size_m, measure_from/measure_to/number_max (road segments),
    synthetic, source, point [lon, lat] (else a point on the geometry). A place already loaded under the same
    external id is updated in place and its names replaced, so loading the same file twice changes nothing.
    With `prune`, places not in the file are removed (with their names and children): the gazetteer becomes
    exactly the file. Everything or nothing: one bad feature rolls the whole load back.
    """
    try:
        collection = json.loads(Path(source).read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GazetteerLoadError(f"无法读取地名文件 cannot read gazetteer file {source}: {exc}") from exc

    existing = {p.external_id: p for p in Place.objects.all()}
    report = GazetteerLoadReport()
    rows: list[tuple[Place, list[str], str | None]] = []
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for number, feature in enumerate(features, start=1):
        place, aliases, parent = _place_from(feature.get("properties") or {}, feature.get("geometry"), number)
        if place.external_id in seen:
            errors.append((number, f"duplicate external_id {place.external_id}"))
            continue
        seen.add(place.external_id)
        old = existing.get(place.external_id)
        if old is not None:
            place.pk = old.pk
        rows.append((place, aliases, parent))
    # Parents before children: a place without a parent first, then the rest in file order.
    rows.sort(key=lambda row: row[2] is not None)
    by_external = dict(existing)
    for done, (place, _aliases, parent) in enumerate(rows, start=1):
        if parent is not None:
            parent_place = by_external.get(parent)
            if parent_place is None:
                errors.append((done, f"{place.external_id}: unknown parent {parent}"))
                continue
            place.parent = parent_place
        try:
            place.full_clean(validate_unique=False, exclude=["parent"])
        except ValidationError as exc:
            errors.append((done, f"{place.external_id}: {exc.messages}"))
            continue
        created = place.pk is None
        place.save()
        by_external[place.external_id] = place
        if created:
            report.created += 1
        else:
            report.updated += 1
        report.kinds[place.kind] = report.kinds.get(place.kind, 0) + 1
        if progress is not None:
            progress(done, len(rows))
    if errors:
        raise GazetteerLoadError(f"地名文件有 {len(errors)} 处错误 {len(errors)} bad features in {source}", errors)

    if prune:
        gone = Place.objects.exclude(external_id__in=seen)
        report.removed = gone.count()
        gone.delete()
    PlaceName.objects.filter(place_id__in=[p.pk for p, _, _ in rows]).delete()
    names = []
    for place, aliases, _ in rows:
        if place.kind == PlaceKind.SEGMENT:
            continue  # segments are reached through their road, never searched by name
        spellings = dict.fromkeys([normalise(place.name), *(normalise(a) for a in aliases)])
        for i, spelling in enumerate(spellings):
            if spelling:
                names.append(PlaceName(place=place, name=spelling, is_alias=i > 0))
    PlaceName.objects.bulk_create(names, batch_size=2000)
    report.names = len(names)

    transaction.on_commit(gazetteer_cache_clear)
    gazetteer_cache_clear()
    return report
