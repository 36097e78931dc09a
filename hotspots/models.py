"""Repeat places, hot spots, idle land and fix plans (高频点位、热点、闲置地块、整治方案).

Source data (parcels, parks, population) is written by the demo loader or an import; analysis results belong to
an `AnalysisRun` and are replaced only by a new run (old runs stay readable by id). Areas and complaints are
named by code or reference, never by foreign key, so results outlive boundary generations and re-imports.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone

from .constants import EmergingPattern, FixKind, FixPlanStatus, Layer, OwnerType, ParcelStatus, Source
from .querysets import (
    AnalysisRunQuerySet,
    EmergingCellQuerySet,
    FixPlanQuerySet,
    HotspotCellQuerySet,
    LotScoreQuerySet,
    ParcelQuerySet,
    ParkQuerySet,
    RepeatPlaceQuerySet,
)


class Parcel(models.Model):
    """A land parcel (地块) with its use and status; idle and vacant ones are candidates for a fix."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    land_use = models.CharField(max_length=60, help_text="规划用途 planned land use")
    status = models.CharField(max_length=16, choices=ParcelStatus.choices, db_index=True)
    idle_since = models.DateField(null=True, blank=True)
    owner_type = models.CharField(max_length=16, choices=OwnerType.choices, default=OwnerType.UNKNOWN)
    area_m2 = models.FloatField(help_text="computed on the spheroid when the parcel is written")
    street_code = models.CharField(max_length=20, blank=True, db_index=True)
    street_name = models.CharField(max_length=100, blank=True)
    district_code = models.CharField(max_length=20, blank=True)
    address = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    geom = models.MultiPolygonField(srid=4326)
    synthetic = models.BooleanField(default=False)
    source = models.CharField(max_length=300, blank=True)

    objects = ParcelQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Park(models.Model):
    """An existing park (公园) residents can walk to."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True, help_text="city / district / community / pocket")
    area_m2 = models.FloatField()
    geom = models.MultiPolygonField(srid=4326)
    synthetic = models.BooleanField(default=False)
    source = models.CharField(max_length=300, blank=True)

    objects = ParkQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PopulationCell(models.Model):
    """Residents of one H3 cell (人口网格); the point is the cell's centre."""

    h3 = models.CharField(max_length=16, unique=True)
    resolution = models.PositiveSmallIntegerField()
    residents = models.FloatField()
    point = models.PointField(srid=4326)
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["h3"]

    def __str__(self) -> str:
        return f"{self.h3}: {self.residents:g}"


class AnalysisRun(models.Model):
    """One computation of a layer: its settings and scale, period, category filter, source, counts and timings."""

    layer = models.CharField(max_length=20, choices=Layer.choices, db_index=True)
    category = models.CharField(max_length=20, blank=True, help_text="category code prefix; empty = all")
    source = models.CharField(max_length=16, choices=Source.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="inclusive")
    params = models.JSONField(default=dict, blank=True, help_text="the rule and the scale, shown with the layer")
    summary = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per step")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    by = models.CharField(max_length=150, blank=True)

    objects = AnalysisRunQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.layer} run {self.pk} ({self.period_start}–{self.period_end})"


class RepeatPlace(models.Model):
    """Complaints of one category at one place in a run's window; chronic and failed-fix flags per the rule."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="repeat_places")
    category_code = models.CharField(max_length=20, db_index=True)
    category_name = models.CharField(max_length=100)
    place_kind = models.CharField(max_length=16, help_text="building / parcel / h3 / dbscan")
    place_key = models.CharField(max_length=80)
    point = models.PointField(srid=4326)
    count = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    span_days = models.FloatField()
    chronic = models.BooleanField(default=False, db_index=True)
    failed_fix = models.BooleanField(default=False)
    failed_fix_count = models.PositiveIntegerField(default=0)
    street_code = models.CharField(max_length=20, blank=True, db_index=True)
    street_name = models.CharField(max_length=100, blank=True)
    district_code = models.CharField(max_length=20, blank=True)
    department_role = models.CharField(max_length=40, blank=True)
    departments = models.JSONField(default=list, blank=True, help_text="[{code, name, role}] for the category's role")
    complaint_refs = models.JSONField(default=list, blank=True)

    objects = RepeatPlaceQuerySet.as_manager()

    class Meta:
        ordering = ["-chronic", "-count", "id"]


class HotspotCell(models.Model):
    """A Gi* result for one H3 cell of a run: count (or rate), z, p, FDR bin −3…3."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="hotspot_cells")
    h3 = models.CharField(max_length=16)
    geom = models.PolygonField(srid=4326)
    count = models.PositiveIntegerField()
    residents = models.FloatField(default=0)
    value = models.FloatField()
    z = models.FloatField()
    p = models.FloatField()
    bin = models.SmallIntegerField(db_index=True)
    street_code = models.CharField(max_length=20, blank=True, db_index=True)

    objects = HotspotCellQuerySet.as_manager()

    class Meta:
        ordering = ["-z", "id"]


class EmergingCell(models.Model):
    """An emerging hot spot result for one H3 cell of a run: pattern, trend and the z-series."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="emerging_cells")
    h3 = models.CharField(max_length=16)
    geom = models.PolygonField(srid=4326)
    pattern = models.CharField(max_length=20, choices=EmergingPattern.choices, db_index=True)
    trend_z = models.FloatField()
    trend_p = models.FloatField()
    hot_steps = models.PositiveIntegerField()
    cold_steps = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    recent_count = models.PositiveIntegerField(help_text="incidents in the last four steps")
    z_series = models.JSONField(default=list, blank=True)
    street_code = models.CharField(max_length=20, blank=True, db_index=True)

    objects = EmergingCellQuerySet.as_manager()

    class Meta:
        ordering = ["pattern", "-trend_z", "id"]


class LotScore(models.Model):
    """An idle lot's place in a ranking run, with every figure that produced it."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="lot_scores")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="scores")
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    residents_new = models.FloatField(help_text="residents newly within the walk at the lot's turn (marginal)")
    residents_new_alone = models.FloatField(help_text="before any lot was picked")
    complaints = models.PositiveIntegerField(help_text="linked complaints in the counting years")
    complaints_by_year = models.JSONField(default=dict, blank=True)
    years_idle = models.FloatField()
    figures = models.JSONField(default=dict, blank=True, help_text="components, weights, normalisers")

    objects = LotScoreQuerySet.as_manager()

    class Meta:
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "parcel"], name="lot_score_once_per_run")]


class IdleLink(models.Model):
    """A complaint linked to the nearest idle parcel within its category's radius (in a ranking run)."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="idle_links")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="links")
    complaint_ref = models.CharField(max_length=64)
    role = models.CharField(max_length=32)
    category_code = models.CharField(max_length=20)
    category_name = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    distance_m = models.FloatField()

    class Meta:
        ordering = ["parcel", "received_at", "id"]


class FixPlan(models.Model):
    """A proposal for a lot (整治方案): what to do, whom it serves, what it settles, whom to summon (吹哨).

    `joint_case_ref` is where a joint case (街乡吹哨、部门报到) started from the plan is recorded, once the
    complaints workflow offers one.
    """

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="fix_plans")
    kind = models.CharField(max_length=32, choices=FixKind.choices)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=FixPlanStatus.choices, default=FixPlanStatus.DRAFT)
    street_code = models.CharField(max_length=20)
    street_name = models.CharField(max_length=100)
    district_code = models.CharField(max_length=20, blank=True)
    residents_served = models.FloatField()
    complaints = models.JSONField(default=list, blank=True, help_text="the linked complaints it would settle")
    departments = models.JSONField(default=list, blank=True, help_text="[{role, code, name, why}] to summon")
    evidence = models.JSONField(default=dict, blank=True, help_text="the lot's score figures and the run it came from")
    joint_case_ref = models.CharField(max_length=100, blank=True)
    by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = FixPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
