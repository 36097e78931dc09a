"""The monthly assessment (三率考核): figures per unit and month, stored by `assessment_compute`."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .constants import Level
from .querysets import UnitAssessmentQuerySet


class AssessmentMonth(models.Model):
    """One computed month: the weights and limits it was computed with, and when.

    Recomputing a month replaces its rows (one transaction), so the figures always match one computation.
    """

    month = models.DateField(unique=True, help_text="first day of the month")
    weights = models.JSONField(help_text='{"response", "resolution", "satisfaction"}')
    min_complaints = models.PositiveIntegerField()
    focus_count = models.PositiveIntegerField()
    complaints = models.PositiveIntegerField(default=0, help_text="complaints received in the month")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class UnitAssessment(models.Model):
    """One unit's month: counts, the three rates (三率), the composite score, its rank among peers of its level.

    Rates are shares (0–1), null when nothing was there to measure; the score is 0–100.
    """

    month = models.DateField(help_text="first day of the month")
    level = models.CharField(max_length=16, choices=Level.choices)
    code = models.CharField(max_length=40, help_text="area code, or department code")
    name = models.CharField(max_length=100)
    parent_code = models.CharField(max_length=20, blank=True, help_text="district of a street or department")
    complaints = models.PositiveIntegerField(help_text="complaints received in the month that the unit handles")
    response_due = models.PositiveIntegerField(help_text="answered, or whose response limit has passed")
    responded_in_time = models.PositiveIntegerField()
    called_back = models.PositiveIntegerField(help_text="complaints with a call-back outcome (回访)")
    solved = models.PositiveIntegerField(help_text="called back and confirmed solved (closed)")
    rated = models.PositiveIntegerField(help_text="with a satisfaction rating")
    satisfied = models.PositiveIntegerField(help_text="rated 满意 or 基本满意")
    overdue = models.PositiveIntegerField(help_text="finished after, or still open past, the deadline")
    response_rate = models.FloatField(null=True)
    resolution_rate = models.FloatField(null=True)
    satisfaction_rate = models.FloatField(null=True)
    score = models.FloatField(null=True)
    rank = models.PositiveIntegerField(null=True, help_text="1 = best among ranked units of the level")
    peers = models.PositiveIntegerField(default=0, help_text="ranked units of the level that month")
    focus = models.BooleanField(default=False, help_text="治理类重点: among the weakest ranked units")
    score_change = models.FloatField(null=True, help_text="score minus the previous month's")
    rank_change = models.IntegerField(null=True, help_text="previous rank minus this rank (positive: moved up)")

    objects = UnitAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["month", "level", "rank", "code"]
        constraints = [models.UniqueConstraint(fields=["month", "level", "code"], name="unit_assessment_once")]
        indexes = [models.Index(fields=["level", "code", "month"], name="unit_assessment_trend")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.level} {self.code} {self.score}"
