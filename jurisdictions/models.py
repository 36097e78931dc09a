"""Boundary generations, administrative areas and the subdivided pieces point lookups run on."""

from __future__ import annotations

from django.contrib.gis.db import models

from .constants import AreaLevel, DisputeOrigin, DisputeStatus, Role, RulingStatus
from .querysets import (
    AreaPieceQuerySet,
    AreaQuerySet,
    BuildingQuerySet,
    DepartmentQuerySet,
    DisputeQuerySet,
    GenerationQuerySet,
    RuleQuerySet,
    VerdictRecordQuerySet,
)


class Generation(models.Model):
    """A named boundary set (边界版本) valid from one date until the next generation takes over.

    Areas belong to a range of generations (MapIt's generation_low/high), so a verdict that names its generation
    still explains itself after boundaries are redrawn.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; empty while current")
    active = models.BooleanField(default=False, help_text="lookups use only activated generations")
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


class Building(models.Model):
    """A building footprint (建筑物). A point inside it is decided by the building, not by the point."""

    code = models.CharField(max_length=60, unique=True, help_text="stable id from the source")
    name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)
    geom = models.MultiPolygonField(srid=4326)
    synthetic = models.BooleanField(default=False)
    source = models.CharField(max_length=300, blank=True)

    objects = BuildingQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class BuildingShare(models.Model):
    """Fraction of a building's footprint in one area of one generation (computed on the spheroid, equal-area).

    Written by the services that write buildings or boundaries, never by hand.
    """

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="shares")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="building_shares")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="building_shares")
    level = models.CharField(max_length=16, choices=AreaLevel.choices)
    share = models.FloatField(help_text="0–1 of the footprint's area")
    area_m2 = models.FloatField()

    class Meta:
        ordering = ["building", "level", "-share", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["building", "generation", "area"], name="building_share_once"),
        ]


class Rule(models.Model):
    """A jurisdiction rule (管辖规则): a place or a building → lead area and co-handlers, while valid.

    Areas are named by code and level, not by row, so a rule outlives a boundary generation. Rules are
    applied before geometry; a later rule (by valid_from, then id) wins over an earlier one at the same place.
    History is kept: a rule is ended by setting valid_to, never edited or deleted.
    """

    geom = models.MultiPolygonField(srid=4326, null=True, blank=True)
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    level = models.CharField(max_length=16, choices=AreaLevel.choices, default=AreaLevel.STREET)
    lead_code = models.CharField(max_length=20)
    co_handler_codes = models.JSONField(default=list, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; empty while in force")
    reason = models.TextField()
    author = models.CharField(max_length=150, help_text="who made the rule (user name or office)")
    ruling_ref = models.CharField(max_length=100, blank=True, help_text="the ruling that made it, e.g. dispute:12")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(geom__isnull=False) & models.Q(building__isnull=True))
                | (models.Q(geom__isnull=True) & models.Q(building__isnull=False)),
                name="rule_has_geom_or_building",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=models.F("valid_from")),
                name="rule_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.pk}: {self.lead_code} ({self.valid_from}–{self.valid_to or ''})"


class VerdictRecord(models.Model):
    """A stored verdict for something that needed one (a complaint, a bulk row …), named by an opaque ref.

    Re-resolving against another generation adds a new record that supersedes the old one; nothing is
    overwritten, so last year's verdict still explains itself.
    """

    subject_ref = models.CharField(max_length=100, db_index=True, help_text="e.g. complaint:123")
    point = models.PointField(srid=4326)
    accuracy_m = models.FloatField(null=True, blank=True)
    at = models.DateField(help_text="the date the verdict was asked for")
    generation = models.ForeignKey(Generation, null=True, on_delete=models.PROTECT, related_name="verdicts")
    method = models.CharField(max_length=16)
    district_code = models.CharField(max_length=20, blank=True)
    street_code = models.CharField(max_length=20, blank=True)
    lead_code = models.CharField(max_length=20, blank=True)
    needs_review = models.BooleanField(default=False)
    result = models.JSONField(help_text="the whole verdict as the API returns it")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VerdictRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]


class StaffProfile(models.Model):
    """A user's role and scope: a district, a street/township, or a department (权限范围)."""

    user = models.OneToOneField("auth.User", on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=16, choices=Role.choices)
    district_code = models.CharField(max_length=20, blank=True)
    street_code = models.CharField(max_length=20, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    demo = models.BooleanField(default=False, help_text="a demo account; production refuses to authenticate it")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditEntry(models.Model):
    """Who changed what, when (审计记录). Written by services on every state change; never edited."""

    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150, help_text="user name at the time, or 'system'")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    changes = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]


class Dispute(models.Model):
    """A boundary dispute (管辖争议) over a place or a building, with the evidence as it was when opened."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    point = models.PointField(srid=4326, null=True, blank=True)
    place = models.MultiPolygonField(srid=4326, null=True, blank=True)
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes")
    origin = models.CharField(max_length=16, choices=DisputeOrigin.choices)
    origin_ref = models.CharField(max_length=100, blank=True, help_text="opaque, e.g. complaint:123")
    contested_codes = models.JSONField(default=list, help_text="codes of the areas in dispute")
    district_codes = models.JSONField(default=list, help_text="districts involved (who must rule)")
    status = models.CharField(max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    evidence = models.JSONField(default=dict, help_text="snapshot taken when opened")
    opened_by = models.ForeignKey("auth.User", null=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"争议 {self.pk}: {self.title}"


class Ruling(models.Model):
    """A ruling on a dispute: who leads, who assists, why, and whether it becomes a rule.

    Immutable once written; a newer ruling supersedes it. Cross-district rulings take effect when staff of
    every district involved have confirmed them (or a city administrator rules).
    """

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="rulings")
    lead_code = models.CharField(max_length=20)
    co_handler_codes = models.JSONField(default=list, blank=True)
    reason = models.TextField()
    make_rule = models.BooleanField(default=True)
    rule_valid_from = models.DateField(null=True, blank=True)
    rule_valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=RulingStatus.choices, default=RulingStatus.PROPOSED)
    proposed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    rule = models.OneToOneField(Rule, null=True, blank=True, on_delete=models.PROTECT, related_name="ruling")

    class Meta:
        ordering = ["-created_at", "-id"]


class RulingConfirmation(models.Model):
    """One district's (or the city's) confirmation of a ruling (确认)."""

    ruling = models.ForeignKey(Ruling, on_delete=models.PROTECT, related_name="confirmations")
    district_code = models.CharField(max_length=20, help_text="the district confirming; 'city' for an administrator")
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True, help_text="why this district proposed or confirmed the ruling, in its words")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ruling", "district_code"], name="one_confirmation_each")]
