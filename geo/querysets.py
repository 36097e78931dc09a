"""The spatial and text vocabulary of the gazetteer: places near a point, names similar to a text."""

from __future__ import annotations

import math

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramSimilarity
from django.db.models.expressions import RawSQL

_METRES_PER_DEGREE = 111_320.0

# Kinds a reverse geocoder answers with: the named things on the ground, not the administrative levels.
REVERSE_KINDS = ("segment", "compound", "building", "poi")


class PlaceQuerySet(models.QuerySet):
    def of_kind(self, *kinds: str) -> PlaceQuerySet:
        """Places of the given kinds."""
        return self.filter(kind__in=kinds)

    def nearest(self, point: Point) -> PlaceQuerySet:
        """Places ordered by true distance from `point` (geography `<->`, metres on the sphere), nearest first,
        with `distance_m` annotated (spheroid).

        Degrees would rank wrongly: at Beijing's latitude a degree of longitude is 23 % shorter than one of
        latitude. The order is computed for every row the queryset holds, so narrow it first (`near_bbox`).
        """
        return self.annotate(distance_m=Distance("geom", point)).order_by(
            RawSQL(
                "geo_place.geom::geography <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography",
                (point.x, point.y),
            ),
            "id",
        )

    def near_bbox(self, point: Point, metres: float) -> PlaceQuerySet:
        """Places whose geometry comes within a box reaching at least `metres` from `point` in every direction
        (index-assisted ST_DWithin on degrees; a cheap first cut before exact distances)."""
        degrees = metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(point.y)), 0.01))
        return self.filter(geom__dwithin=(point, degrees))

    def within_m(self, point: Point, metres: float) -> PlaceQuerySet:
        """Places whose geometry lies within `metres` of `point` (geography cast: true metres)."""
        return self.filter(
            RawSQL(
                "ST_DWithin(geo_place.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
                (point.x, point.y, metres),
                output_field=models.BooleanField(),
            )
        )


class PlaceNameQuerySet(models.QuerySet):
    def similar_to(self, text: str) -> PlaceNameQuerySet:
        """Names trigram-similar to `text` (pg_trgm `%`, GIN-indexed; threshold pg_trgm.similarity_threshold,
        0.3 by default), with `similarity` annotated, most similar first.

        The `%` operator is written as raw SQL so the GIN index is used without installing
        django.contrib.postgres (whose lookups would otherwise provide `trigram_similar`).
        """
        return (
            self.filter(RawSQL("geo_placename.name %% %s", (text,), output_field=models.BooleanField()))
            .annotate(similarity=TrigramSimilarity("name", text))
            .order_by("-similarity", "id")
        )
