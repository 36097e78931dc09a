"""Boundary generations, administrative areas and the subdivided pieces point lookups run on."""

from __future__ import annotations

from django.contrib.gis.db import models

from .constants import AreaLevel
from .querysets import AreaPieceQuerySet, AreaQuerySet, DepartmentQuerySet, GenerationQuerySet


class Generation(models.Model):
    """A named boundary set (边界版本) valid from one date until the next generation takes over.

    Areas belong to a range of generations (MapIt's generation_low/high), so a verdict that names its generation
    still explains itself after boundaries are redrawn.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; empty while current")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=models.F("valid_from")),
                name="generation_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from}–{self.valid_to or ''})"


class Area(models.Model):
    """An administrative area (区 / 街道乡镇 / 社区 / 网格) with its code, parent and boundary in WGS-84."""

    generation_low = models.ForeignKey(Generation, on_delete=models.PROTECT, related_name="areas_from")
    generation_high = models.ForeignKey(Generation, on_delete=models.PROTECT, related_name="areas_until")
    level = models.CharField(max_length=16, choices=AreaLevel.choices, db_index=True)
    code = models.CharField(max_length=20, db_index=True, help_text="GB/T 2260 code: 6 digits district, 9 street")
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    geom = models.MultiPolygonField(srid=4326)
    synthetic = models.BooleanField(default=False, help_text="geometry is synthetic demo data, not a real boundary")
    source = models.CharField(max_length=300, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["generation_low", "level", "code"], name="area_code_per_generation"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AreaPiece(models.Model):
    """A small piece of an area's boundary (ST_Subdivide) so covering tests touch few vertices.

    Written only by the boundary import service, never edited: they are derived from Area.geom.
    """

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="pieces")
    geom = models.PolygonField(srid=4326)

    objects = AreaPieceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"piece of {self.area_id}"


class Department(models.Model):
    """A functional department (职能部门) that owns some kinds of complaints: 自来水集团, 区城管委, 区市场监管局 …

    `role` says what it does (water_supply, city_management …) so a category can name a role and dispatch finds
    the department of that role for the complaint's district, or the city-wide one (`district` empty).
    """

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=40, db_index=True)
    district_code = models.CharField(
        max_length=20, blank=True, db_index=True, help_text="GB/T 2260 code of its district; empty = city-wide"
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
