"""The complaints demo carries handling histories whose 三率 differ from street to street."""

import csv
import datetime as dt
import statistics
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F, Min

from assessment.constants import Level
from assessment.models import UnitAssessment
from assessment.services import assessment_compute
from complaints.models import Complaint, StatusChange

DEMO = Path(settings.BASE_DIR) / "fixtures" / "complaints"
SNAPSHOT = dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MONTHS = (dt.date(2025, 6, 1), dt.date(2025, 11, 1))

pytestmark = pytest.mark.django_db


def _csv(name):
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def demo():
    call_command("complaints_demo_load", verbosity=0)
    return Complaint.objects.filter(external_id__startswith="DEMO")


def test_history_file_matches_the_complaints_file():
    rows = {r["external_id"]: r for r in _csv("complaints-demo.csv")}
    history = {r["external_id"]: r["steps"].split() for r in _csv("complaints-demo-history.csv")}
    assert history.keys() == rows.keys()
    for external_id, steps in history.items():
        minutes = [int(step.rsplit("@", 1)[1]) for step in steps]
        assert minutes == sorted(minutes) and minutes[0] > 0
        moves = [s.rsplit("@", 1)[0] for s in steps if s.split("@")[0] not in ("satisfied", "basically", "unsatisfied")]
        ratings = [s.rsplit("@", 1)[0] for s in steps if s.split("@")[0] in ("satisfied", "basically", "unsatisfied")]
        assert rows[external_id]["status"] == moves[-1]
        assert rows[external_id]["satisfaction"] == (ratings[-1] if ratings else "")


def test_demo_complaints_get_their_history_after_receipt(demo):
    rows = _csv("complaints-demo.csv")
    assert demo.count() == len(rows) > 6000
    history = StatusChange.objects.filter(complaint__in=demo)
    assert not history.filter(note__contains="批量导入").exists()
    assert not history.filter(at__lt=F("complaint__received_at")).exists()
    assert not history.filter(at__gt=SNAPSHOT).exists()
    # every complaint begins with its receipt, at the receipt time
    first = demo.annotate(first=Min("history__at"))
    assert not first.exclude(first=F("received_at")).exists()
    stored = dict(demo.values_list("external_id", "status"))
    assert all(stored[r["external_id"]] == r["status"] for r in rows)
    closed = demo.filter(status="closed")
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not closed.filter(closed_at__lt=F("received_at")).exists()
    assert demo.filter(history__to_status="reopened").distinct().count() > 50
    # not every complaint was called back, and some streets answered late
    assert demo.filter(status="resolved", satisfaction="").count() > 100
    # loading again changes nothing
    before = history.count()
    call_command("complaints_demo_load", verbosity=0)
    assert StatusChange.objects.filter(complaint__in=demo).count() == before


def _spread(values):
    values = sorted(v for v in values if v is not None)
    return values[0], statistics.median(values), values[-1]


def test_demo_assessment_spreads_across_streets(demo):
    for month in MONTHS:
        assessment_compute(month=month)
        ranked = list(UnitAssessment.objects.filter(month=month, level=Level.STREET, rank__isnull=False))
        assert len(ranked) >= 50
        assert sum(r.response_rate < 0.95 for r in ranked) >= 10
        low, _, high = _spread(r.satisfaction_rate for r in ranked)
        assert high - low >= 0.10
        low, _, high = _spread(r.score for r in ranked)
        assert high - low >= 10
        # and with more complaints per unit, districts differ too, within realistic bounds
        districts = UnitAssessment.objects.filter(month=month, level=Level.DISTRICT, complaints__gte=30)
        rates = [d.response_rate for d in districts]
        assert len(rates) >= 6 and 0.80 <= min(rates) < max(rates) <= 1.0
        satisfaction = [d.satisfaction_rate for d in districts]
        assert 0.65 <= min(satisfaction) and max(satisfaction) - min(satisfaction) >= 0.03
