"""QuerySets of the stored assessment."""

from __future__ import annotations

import datetime as dt

from django.db import models


class UnitAssessmentQuerySet(models.QuerySet):
    def of_month(self, month: dt.date) -> UnitAssessmentQuerySet:
        """Rows of one month (`month` is its first day)."""
        return self.filter(month=month)

    def of_level(self, level: str) -> UnitAssessmentQuerySet:
        """Rows of one level: street, district or department."""
        return self.filter(level=level)

    def ranked_first(self) -> UnitAssessmentQuerySet:
        """Best first; units not ranked (too few complaints) last, then by code."""
        return self.order_by(models.F("rank").asc(nulls_last=True), "-complaints", "code")

    def focus(self) -> UnitAssessmentQuerySet:
        """The 治理类重点 units: the weakest ranked ones."""
        return self.filter(focus=True)
