"""Writes of the assessment: compute a month and store it, replacing what was stored for that month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from complaints.models import Complaint

from . import selectors
from .constants import Level, focus_count, min_complaints, weights
from .models import AssessmentMonth, UnitAssessment
from .selectors import UnitFigures


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def composite_score(rates: dict[str, float | None], weights_: dict[str, float]) -> float | None:
    """0–100: the weighted mean of the rates that could be measured (a rate with nothing to measure — no
    call-backs yet — drops out and the other weights count in proportion); None when none could."""
    measured = {key: rate for key, rate in rates.items() if rate is not None and weights_.get(key, 0) > 0}
    total = sum(weights_[key] for key in measured)
    if not total:
        return None
    return round(100 * sum(weights_[key] * rate for key, rate in measured.items()) / total, 2)


def _rows_for_level(
    *,
    month: dt.date,
    level: str,
    figures: Iterable[UnitFigures],
    weights_: dict[str, float],
    minimum: int,
    focus: int,
    previous: dict[str, UnitAssessment],
) -> list[UnitAssessment]:
    rows = []
    for f in figures:
        rates = {
            "response": _share(f.responded_in_time, f.response_due),
            "resolution": _share(f.solved, f.called_back),
            "satisfaction": _share(f.satisfied, f.rated),
        }
        rows.append(
            UnitAssessment(
                month=month,
                level=level,
                code=f.code,
                name=f.name,
                parent_code=f.parent_code or "",
                complaints=f.complaints,
                response_due=f.response_due,
                responded_in_time=f.responded_in_time,
                called_back=f.called_back,
                solved=f.solved,
                rated=f.rated,
                satisfied=f.satisfied,
                overdue=f.overdue,
                response_rate=rates["response"],
                resolution_rate=rates["resolution"],
                satisfaction_rate=rates["satisfaction"],
                score=composite_score(rates, weights_),
            )
        )
    # Rank among peers of the level with enough complaints; equal scores share a rank (1, 2, 2, 4 …).
    ranked = sorted(
        (r for r in rows if r.score is not None and r.complaints >= minimum), key=lambda r: (-r.score, -r.complaints)
    )
    for position, row in enumerate(ranked):
        row.rank = ranked[position - 1].rank if position and ranked[position - 1].score == row.score else position + 1
        row.peers = len(ranked)
    # 治理类重点: the `focus` weakest ranked units (ties with the last one included).
    if ranked and focus > 0:
        threshold = ranked[max(len(ranked) - focus, 0)].score
        for row in ranked:
            row.focus = row.score <= threshold
    for row in rows:
        row.peers = len(ranked)
        before = previous.get(row.code)
        if before is not None and before.score is not None and row.score is not None:
            row.score_change = round(row.score - before.score, 2)
        if before is not None and before.rank is not None and row.rank is not None:
            row.rank_change = before.rank - row.rank
    return rows


@transaction.atomic
def assessment_compute(*, month: dt.date, as_of: dt.datetime | None = None) -> AssessmentMonth:
    """Count, score and rank every street, district and department for `month` and store it, replacing what was
    stored for that month (idempotent: running it twice gives the same rows)."""
    month = month.replace(day=1)
    weights_ = weights()
    minimum, focus = min_complaints(), focus_count()
    start, end = selectors.month_bounds(month)
    previous_month = selectors.previous_month(month)
    UnitAssessment.objects.filter(month=month).delete()
    new_rows: list[UnitAssessment] = []
    for level in Level.values:
        previous = {r.code: r for r in UnitAssessment.objects.of_month(previous_month).of_level(level)}
        figures = selectors.unit_figures(month=month, level=level, as_of=as_of)
        new_rows += _rows_for_level(
            month=month,
            level=level,
            figures=figures,
            weights_=weights_,
            minimum=minimum,
            focus=focus,
            previous=previous,
        )
    UnitAssessment.objects.bulk_create(new_rows, batch_size=1000)
    record, _ = AssessmentMonth.objects.update_or_create(
        month=month,
        defaults={
            "weights": weights_,
            "min_complaints": minimum,
            "focus_count": focus,
            "complaints": Complaint.objects.filter(received_at__gte=start, received_at__lt=end).count(),
            "computed_at": timezone.now(),
        },
    )
    return record


def assessment_compute_all(
    *, months: Iterable[dt.date] | None = None, progress: Callable[[AssessmentMonth], None] | None = None
) -> list[AssessmentMonth]:
    """Compute several months (every month with complaints by default), oldest first, so each month's change is
    measured against the month before as just computed. One transaction per month."""
    chosen = sorted(set(months)) if months is not None else selectors.months_with_complaints()
    done = []
    for month in chosen:
        record = assessment_compute(month=month)
        done.append(record)
        if progress is not None:
            progress(record)
    return done
