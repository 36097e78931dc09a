"""The geocoder: address text → ranked WGS-84 candidates with a confidence and an uncertainty radius.

How one address is matched:

1. `parse_address` splits it (district / street / community / road / number / compound / building / unit / room),
   with the street/township names of the gazetteer as its vocabulary.
2. Gazetteer names are looked for in what follows the administrative levels, longest first (an in-process
   index of every name and alias; short names such as 北大 must not run on into 北大街). This is the exact path.
3. When no name is found there, one PostgreSQL `pg_trgm` query ranks names by trigram similarity to the parsed
   place text (typos, missing characters, extra words). This is the fuzzy path.
4. Each matched place is resolved to the most precise thing the text names: a compound's building (5号楼),
   a house number on a road (synthetic numbering along the road, on the segment that holds it), the road's
   segment in the district/street the text names, or the place itself.
5. Areas from the jurisdiction engine: every candidate's district and street are {code, name} of the areas its
   point lies in, as the engine says (the same answer as a verdict's); jurisdictions registers the resolver
   (`set_area_resolver`), since geo must not import it. Without one, or outside every area, the gazetteer's
   labels are used with `code` None.
6. Hierarchy check against those areas: a candidate whose district differs from the district the text names is
   penalised (×0.5), one whose street differs from the named street a little (×0.85) — penalised, not dropped,
   because operators do name the wrong district. Without any place, the named street or district is the answer.
7. Address/area conflicts: when the text names a district or street and the best candidate lies outside it
   (typically a road along a district line, 西长安街 or 鲁谷路), a road answer is moved along its road to the
   nearest point inside the stated area, and candidates inside it rank first. When none is inside, the best
   candidate is returned with `conflict` (stated vs found) and `needs_review` set.
8. confidence = name score × specificity of the kind × hierarchy factor × ambiguity factor (0..1), and
   radius_m = the place's size / confidence (a vague answer about a big place gets a big circle).

The index is built once per process from the database and rebuilt after `GEOCODER_CACHE_SECONDS` (settings
SHAOZI, default 300) or when a service changes the gazetteer in this process (`gazetteer_cache_clear`).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point

from .address import _CONTINUATION, ParsedAddress, Vocabulary, parse_address, street_stem, strip_city
from .models import Place, PlaceKind, PlaceName
from .querysets import REVERSE_KINDS

# How precise each answer kind is, before name and hierarchy evidence.
SPECIFICITY = {
    "building": 1.0,
    "grid": 0.95,
    "compound": 0.92,
    "poi": 0.92,
    "community": 0.85,
    "road": 0.8,
    "street": 0.6,
    "district": 0.4,
}
DISTRICT_MISMATCH = 0.5
STREET_MISMATCH = 0.85
NO_DISTRICT_GIVEN = 0.97
# A fuzzy (trigram) match never scores like an exact one: name score = similarity ** 0.5 × this.
FUZZY_CEILING = 0.9
# House numbers are synthetic: where a number falls is known to about this many metres.
NUMBER_SIZE_M = 30.0
BUILDING_MISSING = 0.85  # a compound found but not the building the text names
MAX_RADIUS_M = 50_000.0
MIN_RADIUS_M = 10.0
# Reverse geocoding looks this far first (and everywhere when nothing is that close).
REVERSE_SEARCH_M = 2_000.0
# Typo matching (one edit) only for names and keys at least this long: two-character names are too close.
TYPO_MIN_LEN = 3
TYPO_SCORE = 0.85
# Names this short must not run on into a longer word (北大 in 北大街, 清华 in 清华东路).
SHORT_NAME = 3
# A road answer moved along its road into the area the text states: the number is no longer where the
# numbering puts it, so it is a little less likely; it stays this far inside the segment's ends, off the line.
MOVED_INTO_STATED = 0.9
INSET_M = 15.0
_METRES_PER_DEGREE = 111_320.0

# Which district and street a WGS-84 point lies in: (lon array, lat array) → one {"district": {code, name} |
# None, "street": {code, name} | None} per point (None: outside every area). Registered by jurisdictions.
AreaResolver = Callable[[np.ndarray, np.ndarray], list[dict]]
_area_resolver: AreaResolver | None = None


def set_area_resolver(resolver: AreaResolver | None) -> AreaResolver | None:
    """Register the function that gives the areas of candidate points (jurisdictions registers the engine's in
    its AppConfig.ready; geo cannot import it). Returns the one it replaces, so a caller can put it back."""
    global _area_resolver
    previous, _area_resolver = _area_resolver, resolver
    return previous


def areas_at(lon, lat) -> list[dict | None]:
    """{district, street} per WGS-84 point from the registered resolver; None per point when none is registered."""
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if _area_resolver is None or not len(lon):
        return [None] * len(lon)
    return list(_area_resolver(lon, lat))


@dataclass
class GeocodeCandidate:
    """One answer of the geocoder (WGS-84), best first in a list."""

    lon: float  # WGS-84
    lat: float
    confidence: float  # 0..1
    radius_m: float  # uncertainty radius derived from confidence and the place's size
    label: str  # e.g. "丰台区 刘家窑南里 5号楼"
    kind: str  # road | compound | building | poi | community | street | district | grid
    # {code, name} of the district / street (街道/乡镇) the point lies in, as the jurisdiction engine says;
    # code None when only the gazetteer's label is known (no engine, or outside every area).
    district: dict | None
    street: dict | None
    place_id: int | None
    parsed: dict  # the parsed address parts
    match: str = "exact"  # exact | typo | fuzzy | admin | nearest
    synthetic: bool = False  # the position comes from synthetic demo data (numbering, building layout)
    distance_m: float | None = None  # reverse geocoding: how far the place is from the asked point
    # The area the text states and the candidate lies outside: {"district"|"street": {"stated": name, "found":
    # {code, name} | None}}; None when it lies inside (or the text states none).
    conflict: dict | None = None
    needs_review: bool = False  # a person should check: the address and the place disagree

    @property
    def district_name(self) -> str | None:
        return self.district["name"] if self.district else None

    @property
    def street_name(self) -> str | None:
        return self.street["name"] if self.street else None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Entry:
    """A light in-memory copy of a Place."""

    id: int
    kind: str
    name: str
    district: str
    street: str
    lon: float
    lat: float
    size_m: float
    parent_id: int | None
    number: str
    synthetic: bool
    measure_from: float | None = None
    measure_to: float | None = None
    number_max: int | None = None
    coords: tuple | None = None  # segments: the line's (lon, lat) vertices


@dataclass
class GazetteerIndex:
    """Everything the exact path needs, in memory: places, names → places, buildings, road segments."""

    places: dict[int, _Entry] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    max_name_len: int = 0
    buildings: dict[tuple[int, str], int] = field(default_factory=dict)
    segments: dict[int, list[_Entry]] = field(default_factory=dict)
    streets: dict[tuple[str, str], int] = field(default_factory=dict)
    streets_by_name: dict[str, list[int]] = field(default_factory=dict)
    districts: dict[str, int] = field(default_factory=dict)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    variants: dict[str, set[str]] = field(default_factory=dict)
    built_at: float = 0.0

    @classmethod
    def build(cls) -> GazetteerIndex:
        index = cls(built_at=time.monotonic())
        rows = Place.objects.values_list(
            "id",
            "kind",
            "name",
            "district",
            "street",
            "point",
            "size_m",
            "parent_id",
            "number",
            "synthetic",
            "measure_from",
            "measure_to",
            "number_max",
        )
        for pk, kind, name, district, street, point, size, parent, number, synthetic, mf, mt, nmax in rows:
            index.places[pk] = _Entry(
                pk, kind, name, district, street, point.x, point.y, size, parent, number, synthetic, mf, mt, nmax
            )
        for pk, geom in Place.objects.filter(kind=PlaceKind.SEGMENT).values_list("id", "geom"):
            entry = index.places[pk]
            entry.coords = tuple(geom.coords) if geom.geom_type == "LineString" else tuple(geom[0].coords)
            index.segments.setdefault(entry.parent_id, []).append(entry)
        for segments in index.segments.values():
            segments.sort(key=lambda e: e.measure_from or 0.0)
        for place_id, name in PlaceName.objects.values_list("place_id", "name"):
            index.by_name.setdefault(name, []).append(place_id)
        index.max_name_len = max((len(n) for n in index.by_name), default=0)
        for name in index.by_name:
            if len(name) >= TYPO_MIN_LEN:
                for variant in _deletions(name):
                    index.variants.setdefault(variant, set()).add(name)
        streets = []
        for entry in index.places.values():
            if entry.kind == PlaceKind.BUILDING and entry.parent_id:
                index.buildings[(entry.parent_id, entry.number)] = entry.id
            elif entry.kind == PlaceKind.STREET:
                index.streets[(entry.district, entry.name)] = entry.id
                index.streets_by_name.setdefault(entry.name, []).append(entry.id)
                streets.append((entry.name, entry.district))
            elif entry.kind == PlaceKind.DISTRICT:
                index.districts[entry.name] = entry.id
        index.vocabulary = Vocabulary.from_streets(sorted(streets))
        return index

    def near_names(self, key: str) -> list[str]:
        """Names one typo away from `key` (a character missing, extra, wrong or two swapped), for keys of
        TYPO_MIN_LEN characters or more: 柳阴街 → 柳荫街, 刘佳窑南里 → 刘家窑南里."""
        if len(key) < TYPO_MIN_LEN:
            return []
        found: set[str] = set()
        if key in self.variants:
            found |= self.variants[key]  # a character missing from the key
        for variant in _deletions(key):
            if variant in self.by_name:
                found.add(variant)  # an extra character in the key
            found |= self.variants.get(variant, set())  # a wrong or swapped character
        found.discard(key)
        return sorted(found)

    def find_names(self, text: str) -> list[tuple[int, int, str]]:
        """Gazetteer names in `text`, longest first at each position, not overlapping: (start, end, name)."""
        found = []
        n = len(text)
        start = 0
        while start < n:
            hit = None
            for end in range(min(n, start + self.max_name_len), start + 1, -1):
                name = text[start:end]
                if name in self.by_name:
                    if end - start <= SHORT_NAME and end < n and _runs_on(text[end:]):
                        continue
                    hit = (start, end, name)
                    break
            if hit:
                found.append(hit)
                start = hit[1]
            else:
                start += 1
        return found


_GATE = re.compile(r"^[东西南北]?[门口](?!外|内|大街|桥)")
# Words that make a name part of a longer one, and that a typo key loses (蓟门里小区 → 蓟门里).
_GENERIC_SUFFIX = re.compile(r"(?:小区|社区|居委会|住宅区|宿舍)$")


def _runs_on(after: str) -> bool:
    """Whether the text after a short name continues it into another name (北大 + 街), rather than naming a
    gate or side of the place (清华 + 东门, 天坛 + 南门)."""
    return not _GATE.match(after) and bool(_CONTINUATION.match(after))


def _deletions(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


_lock = threading.Lock()
_index: GazetteerIndex | None = None


def gazetteer_cache_clear() -> None:
    """Forget the in-process index; the next geocode rebuilds it from the database."""
    global _index
    with _lock:
        _index = None


def gazetteer_index() -> GazetteerIndex:
    """The in-process gazetteer index, built on first use and rebuilt when older than the configured lifetime."""
    global _index
    lifetime = settings.SHAOZI.get("GEOCODER_CACHE_SECONDS", 300)
    index = _index
    if index is None or time.monotonic() - index.built_at > lifetime:
        with _lock:
            if _index is None or time.monotonic() - _index.built_at > lifetime:
                _index = GazetteerIndex.build()
            index = _index
    return index


def _radius(size_m: float, confidence: float) -> float:
    return round(min(MAX_RADIUS_M, max(MIN_RADIUS_M, size_m) / max(confidence, 0.05)), 1)


def _hierarchy(entry_district: str, entry_street: str, parsed: ParsedAddress) -> float:
    factor = 1.0
    if parsed.district:
        if entry_district != parsed.district:
            factor *= DISTRICT_MISMATCH
    else:
        factor *= NO_DISTRICT_GIVEN
    if parsed.street and entry_street and entry_street != parsed.street:
        factor *= STREET_MISMATCH
    return factor


def _label(district: str, *parts: str) -> str:
    return " ".join(p for p in (district, *parts) if p)


def _number_value(number: str | None) -> int | None:
    if not number:
        return None
    digits = ""
    for ch in number:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return int(digits) if digits else None


def _along(coords: tuple, fraction: float) -> tuple[float, float]:
    """The point at `fraction` (0..1) of a polyline's length (planar, fine at the scale of one segment)."""
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(coords)]
    total = sum(lengths)
    if total == 0:
        return coords[0]
    target = max(0.0, min(1.0, fraction)) * total
    for (a, b), length in zip(itertools.pairwise(coords), lengths, strict=True):
        if target <= length and length > 0:
            t = target / length
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        target -= length
    return coords[-1]


def _project(coords: tuple, lon: float, lat: float, inset_m: float) -> tuple[tuple[float, float], float]:
    """The point of a polyline nearest (lon, lat), kept `inset_m` inside its ends (so off the line where a
    segment was cut), and its distance in metres. Planar in a local metric frame (equirectangular at `lat`):
    exact enough over one road segment."""
    kx = _METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)
    ky = _METRES_PER_DEGREE
    points = [((x - lon) * kx, (y - lat) * ky) for x, y in coords]
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(points)]
    total = sum(lengths)
    if total == 0:
        return coords[0], math.hypot(*points[0])
    nearest_at, nearest_d, start = 0.0, math.inf, 0.0
    for (a, b), length in zip(itertools.pairwise(points), lengths, strict=True):
        if length > 0:
            dx, dy = b[0] - a[0], b[1] - a[1]
            t = max(0.0, min(1.0, -(a[0] * dx + a[1] * dy) / (length * length)))
            d = math.hypot(a[0] + t * dx, a[1] + t * dy)
            if d < nearest_d:
                nearest_at, nearest_d = start + t * length, d
        start += length
    inset = min(inset_m, total / 2)
    target = max(inset, min(total - inset, nearest_at))
    for (a, b), length in zip(itertools.pairwise(points), lengths, strict=True):
        if target <= length and length > 0:
            t = target / length
            x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
            return (lon + x / kx, lat + y / ky), math.hypot(x, y)
        target -= length
    x, y = points[-1]
    return (lon + x / kx, lat + y / ky), math.hypot(x, y)


def _area_ref(name: str) -> dict | None:
    """A gazetteer label as an area reference with no code (the engine did not place the point)."""
    return {"code": None, "name": name} if name else None


def _areas(points: list[tuple[float, float, str, str]]) -> list[tuple[dict | None, dict | None]]:
    """(district, street) references for (lon, lat, gazetteer district, gazetteer street) points: the engine's
    areas where it places the point, else the gazetteer's labels without a code."""
    found = areas_at([p[0] for p in points], [p[1] for p in points])
    out = []
    for (_, _, district, street), areas in zip(points, found, strict=True):
        if areas and areas.get("district"):
            street = areas.get("street")
            out.append((dict(areas["district"]), dict(street) if street else None))
        else:
            out.append((_area_ref(district), _area_ref(street)))
    return out


def _conflict(candidate: GeocodeCandidate, parsed: ParsedAddress) -> dict | None:
    """The stated district / street the candidate lies outside, with what it lies in instead."""
    conflict = {}
    if parsed.district and candidate.district_name != parsed.district:
        conflict["district"] = {"stated": parsed.district, "found": candidate.district}
    if parsed.street and candidate.street_name != parsed.street:
        conflict["street"] = {"stated": parsed.street, "found": candidate.street}
    return conflict or None


@dataclass
class _Pending:
    """A candidate before its areas are known, with what its confidence and radius are computed from."""

    candidate: GeocodeCandidate
    score: float  # name score × specificity of the kind (× any factor of the match), before the hierarchy check
    size_m: float
    district: str  # the gazetteer's labels, used where the engine does not place the point
    street: str
    road: _Entry | None = None  # road answers: the road, along which an answer outside the stated area can move


class _Matcher:
    """Turns matched places into candidates for one parsed address."""

    def __init__(self, index: GazetteerIndex, parsed: ParsedAddress):
        self.index = index
        self.parsed = parsed
        self.parsed_dict = parsed.as_dict()
        self.pending: list[_Pending] = []

    def add(self, *, lon, lat, entry: _Entry, kind, label, size_m, score, match, road: _Entry | None = None):
        candidate = GeocodeCandidate(
            lon=round(lon, 7),
            lat=round(lat, 7),
            confidence=0.0,
            radius_m=0.0,
            label=label,
            kind=kind,
            district=None,
            street=None,
            place_id=road.id if road is not None else entry.id,
            parsed=self.parsed_dict,
            match=match,
            synthetic=entry.synthetic,
        )
        self.pending.append(_Pending(candidate, score * SPECIFICITY[kind], size_m, entry.district, entry.street, road))

    def finish(self, limit: int) -> list[GeocodeCandidate]:
        """Place every candidate in its areas (one engine call), check it against the stated areas, move road
        answers outside them into them, and rank: inside the stated areas first, then by confidence."""
        pending = self.pending
        self._place(pending)
        if pending and (self.parsed.district or self.parsed.street):
            best = max(pending, key=lambda p: p.candidate.confidence)
            if best.candidate.conflict:
                outside = [p for p in pending if p.candidate.conflict and p.road]
                moved = [self._into_stated(p) for p in outside]
                self._place([m for m in moved if m])
                # Kept when the engine puts the moved point inside more of what the text states (the district,
                # even if the road has no segment in the stated street).
                pending = pending + [
                    m
                    for p, m in zip(outside, moved, strict=True)
                    if m and len(m.candidate.conflict or {}) < len(p.candidate.conflict)
                ]
        return _best([p.candidate for p in pending], limit)

    def _place(self, items: list[_Pending]) -> None:
        if not items:
            return
        areas = _areas([(p.candidate.lon, p.candidate.lat, p.district, p.street) for p in items])
        for item, (district, street) in zip(items, areas, strict=True):
            candidate = item.candidate
            # A district answer is the whole district: its point is only a representative, inside some street.
            candidate.district, candidate.street = district, None if candidate.kind == PlaceKind.DISTRICT else street
            factor = _hierarchy(candidate.district_name or "", candidate.street_name or "", self.parsed)
            candidate.confidence = round(max(0.0, min(1.0, item.score * factor)), 4)
            candidate.radius_m = _radius(item.size_m, candidate.confidence)
            candidate.conflict = _conflict(candidate, self.parsed)
            candidate.needs_review = candidate.conflict is not None

    def _into_stated(self, item: _Pending) -> _Pending | None:
        """A road answer outside the stated area, moved along its road to the nearest point of a segment in that
        area (the street and district if the text names both and the road has one there, else the district):
        the road runs along or across the line, and the text says which side. None when the road has none."""
        parsed, road, candidate = self.parsed, item.road, item.candidate
        segments = [s for s in self.index.segments.get(road.id, []) if s.coords]
        if parsed.district:
            segments = [s for s in segments if s.district == parsed.district]
        if parsed.street:
            segments = [s for s in segments if s.street == parsed.street] or (segments if parsed.district else [])
        best = None
        for segment in segments:
            point, moved = _project(segment.coords, candidate.lon, candidate.lat, INSET_M)
            if best is None or moved < best[2]:
                best = (segment, point, moved)
        if best is None:
            return None
        segment, (lon, lat), moved = best
        if candidate.kind == "grid":
            suffix = "号院" if parsed.courtyard else "号"
            label, size = _label(segment.district, road.name, f"{parsed.number}{suffix}"), NUMBER_SIZE_M + moved
        else:
            label, size = _label(segment.district, road.name), segment.size_m
        self.add(
            lon=lon, lat=lat, entry=segment, kind=candidate.kind, label=label, size_m=size,
            score=item.score / SPECIFICITY[candidate.kind] * MOVED_INTO_STATED, match=candidate.match, road=road,
        )  # fmt: skip
        moved_item = self.pending.pop()
        moved_item.candidate.synthetic = candidate.synthetic
        return moved_item

    def place(self, entry: _Entry, score: float, match: str) -> None:
        parsed = self.parsed
        if entry.kind == PlaceKind.ROAD:
            self.road(entry, score, match)
        elif entry.kind in (PlaceKind.COMPOUND, PlaceKind.POI):
            building = parsed.building or (parsed.number if parsed.courtyard is False and not parsed.road else None)
            child_id = self.index.buildings.get((entry.id, building)) if building else None
            if child_id is not None:
                child = self.index.places[child_id]
                label = _label(
                    child.district, entry.name, f"{building}号楼", f"{parsed.unit}单元" if parsed.unit else ""
                )
                self.add(
                    lon=child.lon, lat=child.lat, entry=child, kind="building", label=label,
                    size_m=child.size_m, score=score, match=match,
                )  # fmt: skip
            else:
                factor = BUILDING_MISSING if building else 1.0
                label = _label(entry.district, entry.name, f"{building}号楼" if building else "")
                self.add(
                    lon=entry.lon, lat=entry.lat, entry=entry, kind=entry.kind, label=label,
                    size_m=entry.size_m, score=score * factor, match=match,
                )  # fmt: skip
        elif entry.kind == PlaceKind.BUILDING:
            compound = self.index.places.get(entry.parent_id)
            label = _label(
                entry.district,
                compound.name if compound else entry.name,
                f"{entry.number}号楼" if compound else "",
                f"{parsed.unit}单元" if parsed.unit else "",
            )
            self.add(
                lon=entry.lon, lat=entry.lat, entry=entry, kind="building", label=label,
                size_m=entry.size_m, score=score, match=match,
            )  # fmt: skip
        elif entry.kind in (PlaceKind.COMMUNITY, PlaceKind.STREET, PlaceKind.DISTRICT):
            self.add(
                lon=entry.lon, lat=entry.lat, entry=entry, kind=entry.kind, label=_label(entry.district, entry.name)
                if entry.kind != PlaceKind.DISTRICT else entry.name,
                size_m=entry.size_m, score=score, match=match,
            )  # fmt: skip

    def road(self, road: _Entry, score: float, match: str) -> None:
        parsed = self.parsed
        segments = self.index.segments.get(road.id, [])
        number = _number_value(parsed.number) if parsed.number else None
        if number is not None and road.number_max and segments:
            fraction = min(number, road.number_max) / road.number_max
            segment = min(
                segments,
                key=lambda s: (
                    0.0
                    if (s.measure_from or 0) <= fraction <= (s.measure_to or 1)
                    else min(abs(fraction - (s.measure_from or 0)), abs(fraction - (s.measure_to or 1)))
                ),
            )
            span = (segment.measure_to or 1) - (segment.measure_from or 0)
            local = (fraction - (segment.measure_from or 0)) / span if span > 0 else 0.5
            lon, lat = _along(segment.coords, local)
            suffix = "号院" if parsed.courtyard else "号"
            self.add(
                lon=lon, lat=lat, entry=segment, kind="grid",
                label=_label(segment.district, road.name, f"{parsed.number}{suffix}"),
                size_m=NUMBER_SIZE_M, score=score, match=match, road=road,
            )  # fmt: skip
            self.pending[-1].candidate.synthetic = True
            return
        # No number: the segment in the named district/street (the longest such), or the road's middle.
        chosen = None
        if segments and (parsed.district or parsed.street):
            fitting = [s for s in segments if (not parsed.district or s.district == parsed.district)]
            fitting = [s for s in fitting if s.street == parsed.street] or fitting if parsed.street else fitting
            if fitting:
                chosen = max(fitting, key=lambda s: s.size_m)
        target = chosen or road
        self.add(
            lon=target.lon, lat=target.lat, entry=target, kind="road", label=_label(target.district, road.name),
            size_m=target.size_m, score=score, match=match, road=road,
        )  # fmt: skip

    def admin(self) -> None:
        """The named street (or, without one, the named district) as the answer of last resort."""
        parsed = self.parsed
        index = self.index
        if parsed.street:
            ids = []
            if parsed.district and (parsed.district, parsed.street) in index.streets:
                ids = [index.streets[(parsed.district, parsed.street)]]
            else:
                ids = index.streets_by_name.get(parsed.street, [])
            for pk in ids:
                self.place(index.places[pk], 1.0 / math.sqrt(len(ids)), "admin")
            if ids:
                return
        if parsed.district and parsed.district in index.districts:
            self.place(index.places[index.districts[parsed.district]], 1.0, "admin")


def _fuzzy_key(parsed: ParsedAddress) -> str:
    for text in (parsed.compound, parsed.road, parsed.community, parsed.place_text, parsed.rest):
        if text and len(text) >= 2:
            return text
    return ""


def _fuzzy(key: str, limit: int = 10) -> list[tuple[int, float]]:
    """One trigram query: (place id, similarity) of the names most like `key`."""
    rows = PlaceName.objects.similar_to(key).values_list("place_id", "similarity")[: limit * 2]
    best: dict[int, float] = {}
    for place_id, similarity in rows:
        best[place_id] = max(best.get(place_id, 0.0), similarity)
    return sorted(best.items(), key=lambda item: -item[1])[:limit]


def geocode(text: str, *, limit: int = 5) -> list[GeocodeCandidate]:
    """Ranked candidates for an address text, best first; [] when nothing in the gazetteer fits."""
    index = gazetteer_index()
    parsed = parse_address(text or "", vocabulary=index.vocabulary)
    admin_kinds = (PlaceKind.STREET, PlaceKind.DISTRICT)
    # Names are looked for in the whole text, not only after the administrative levels: 丰台科技园 and
    # 海淀黄庄 begin with a district's short name, 十三陵 is also the short name of 十三陵镇.
    names = [name for _, _, name in index.find_names(strip_city(parsed.normalised))]
    hits = [(pk, name, 1.0) for name in names for pk in index.by_name[name] if index.places[pk].kind not in admin_kinds]
    match = "exact"
    if not hits:
        key = _fuzzy_key(parsed)
        bare = _GENERIC_SUFFIX.sub("", key)
        if bare != key and bare in index.by_name:
            names_found = [bare]
        else:
            names_found = index.near_names(key)
        hits = [(pk, name, TYPO_SCORE) for name in names_found for pk in index.by_name[name]]
        hits = [hit for hit in hits if index.places[hit[0]].kind not in admin_kinds]
        match = "typo"
        if not hits and key:
            match = "fuzzy"
            hits = [
                (pk, index.places[pk].name, FUZZY_CEILING * math.sqrt(similarity))
                for pk, similarity in _fuzzy(key)
                if index.places[pk].kind not in admin_kinds or not (parsed.street or parsed.district)
            ]
    if parsed.street_short and hits:
        # 杨庄中区 is a compound, not 杨庄 (a street of 通州) + 中区: a place named with the short name wins.
        stem = street_stem(parsed.street)
        if any(stem in name for _, name, _ in hits):
            if parsed.district_alias is None:
                parsed.district = None
            parsed.street, parsed.street_short = None, False
    matcher = _Matcher(index, parsed)
    # The same name in several places (府前街 in 顺义 and 平谷): each is less likely on its own.
    ambiguity: dict[str, int] = {}
    for _, name, _ in hits:
        ambiguity[name] = ambiguity.get(name, 0) + 1
    for pk, name, score in hits:
        matcher.place(index.places[pk], score / math.sqrt(ambiguity[name]), match)
    if not matcher.pending:
        matcher.admin()
    return matcher.finish(limit)


def _rank(candidate: GeocodeCandidate) -> tuple:
    """Inside the stated district first, then inside the stated street, then the most confident."""
    conflict = candidate.conflict or {}
    return ("district" in conflict, "street" in conflict, -candidate.confidence, candidate.radius_m, candidate.label)


def _best(candidates: list[GeocodeCandidate], limit: int) -> list[GeocodeCandidate]:
    candidates.sort(key=_rank)
    seen: set[tuple] = set()
    out = []
    for candidate in candidates:
        key = (candidate.kind, candidate.place_id, candidate.lon, candidate.lat)
        if key in seen:
            continue
        seen.add(key)
        out.append(candidate)
        if len(out) >= limit:
            break
    return out


def reverse_geocode(*, lon: float, lat: float, limit: int = 5) -> list[GeocodeCandidate]:
    """The gazetteer places nearest a WGS-84 point (buildings, compounds, POIs, house numbers on roads), nearest
    first, with their distance; confidence falls off with distance relative to the place's size."""
    point = Point(lon, lat, srid=4326)
    places = Place.objects.of_kind(*REVERSE_KINDS)
    if places.near_bbox(point, REVERSE_SEARCH_M).exists():
        places = places.near_bbox(point, REVERSE_SEARCH_M)
    rows = (
        places.nearest(point)
        .select_related("parent")
        .only(
            "id", "kind", "name", "district", "street", "point", "geom", "size_m", "synthetic", "number",
            "measure_from", "measure_to", "number_max", "parent__id", "parent__name",
        )[: limit * 4]
    )  # fmt: skip
    out: list[tuple[GeocodeCandidate, str, str]] = []  # with the gazetteer's district and street labels
    seen_roads: set[int] = set()
    for place in rows:
        distance = float(place.distance_m.m)
        parsed: dict = {}
        if place.kind == PlaceKind.SEGMENT:
            if place.parent_id in seen_roads:
                continue
            seen_roads.add(place.parent_id)
            local = place.geom.project_normalized(point) if place.geom.geom_type == "LineString" else 0.5
            fraction = (place.measure_from or 0) + local * ((place.measure_to or 1) - (place.measure_from or 0))
            number = max(1, round(fraction * (place.number_max or 1)))
            nearest = place.geom.interpolate_normalized(local) if place.geom.geom_type == "LineString" else place.point
            kind, label, size = "grid", _label(place.district, place.name, f"{number}号"), NUMBER_SIZE_M
            x, y, place_id, synthetic = nearest.x, nearest.y, place.parent_id, True
            parsed = {"road": place.name, "number": str(number)}
        else:
            kind, size = place.kind, place.size_m
            name = place.name
            if place.kind == PlaceKind.BUILDING and place.parent is not None:
                name = f"{place.parent.name} {place.number}号楼"
                parsed = {"compound": place.parent.name, "building": place.number}
            else:
                parsed = {"compound" if kind == PlaceKind.COMPOUND else "poi": place.name}
            label = _label(place.district, name)
            x, y, place_id, synthetic = place.point.x, place.point.y, place.id, place.synthetic
        confidence = round(math.exp(-distance / (max(size, MIN_RADIUS_M) + 50.0)), 4)
        candidate = GeocodeCandidate(
            lon=round(x, 7),
            lat=round(y, 7),
            confidence=confidence,
            radius_m=round(distance + max(size, MIN_RADIUS_M), 1),
            label=label,
            kind=kind,
            district=None,
            street=None,
            place_id=place_id,
            parsed=parsed,
            match="nearest",
            synthetic=synthetic,
            distance_m=round(distance, 1),
        )
        out.append((candidate, place.district, place.street))
    out.sort(key=lambda item: (item[0].distance_m, -item[0].confidence))
    out = out[:limit]
    areas = _areas([(c.lon, c.lat, district, street) for c, district, street in out]) if out else []
    for (candidate, _, _), (district, street) in zip(out, areas, strict=True):
        candidate.district, candidate.street = district, street
    return [candidate for candidate, _, _ in out]
