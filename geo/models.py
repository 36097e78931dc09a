"""The gazetteer (地名库): named places with aliases and geometry, and the names the geocoder searches."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex

from .querysets import PlaceNameQuerySet, PlaceQuerySet


class PlaceKind(models.TextChoices):
    """What a gazetteer place is. A road is split into segments, one per street/township it runs through."""

    ROAD = "road", "道路"
    SEGMENT = "segment", "路段"
    COMPOUND = "compound", "小区/院"
    BUILDING = "building", "楼"
    POI = "poi", "兴趣点"
    COMMUNITY = "community", "社区"
    STREET = "street", "街道/乡镇"
    DISTRICT = "district", "区"


class Place(models.Model):
    """A gazetteer place: a road (and its segments), compound, building, POI, community, street or district.

    District and street are stored as names (text), not as links to boundary records: the gazetteer does not
    know about jurisdictions, it only remembers where each place was when it was loaded. `point` is where a
    geocoder answer puts the place; `size_m` is how far the place reaches from it (half a road segment's length,
    a compound's radius), which becomes part of the uncertainty radius of an answer.

    Road segments carry synthetic house numbering: number n of a road with `number_max` numbers sits at the
    fraction n / number_max of the road's length, and the segment holding that fraction is the one with
    measure_from ≤ fraction ≤ measure_to.
    """

    external_id = models.CharField(max_length=160, unique=True, help_text="stable id from the source file")
    kind = models.CharField(max_length=16, choices=PlaceKind.choices, db_index=True)
    name = models.CharField(max_length=200)
    district = models.CharField(max_length=50, blank=True, db_index=True, help_text="district name, e.g. 丰台区")
    street = models.CharField(max_length=50, blank=True, help_text="street/township name, e.g. 方庄街道")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    number = models.CharField(max_length=20, blank=True, help_text="a building's number in its compound (5 = 5号楼)")
    geom = models.GeometryField(srid=4326)
    point = models.PointField(srid=4326)
    size_m = models.FloatField(default=50.0)
    measure_from = models.FloatField(null=True, blank=True, help_text="segment start, fraction of the road length")
    measure_to = models.FloatField(null=True, blank=True, help_text="segment end, fraction of the road length")
    number_max = models.PositiveIntegerField(null=True, blank=True, help_text="house numbers along the road")
    synthetic = models.BooleanField(default=False, help_text="made-up demo data, not a real place or position")
    source = models.CharField(max_length=300, blank=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name", "id"]
        indexes = [models.Index(fields=["parent", "number"], name="geo_place_parent_number")]
        constraints = [
            models.CheckConstraint(condition=models.Q(size_m__gte=0), name="place_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class PlaceName(models.Model):
    """One searchable name of a place (its own name or an alias), normalised like parsed addresses are.

    The trigram index (pg_trgm, GIN) on `name` is what fuzzy matching uses.
    """

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    is_alias = models.BooleanField(default=False)

    objects = PlaceNameQuerySet.as_manager()

    class Meta:
        ordering = ["place", "is_alias", "name"]
        indexes = [GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="geo_placename_name_trgm")]
        constraints = [models.UniqueConstraint(fields=["place", "name"], name="place_name_once")]

    def __str__(self) -> str:
        return self.name
