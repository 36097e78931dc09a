"""Hotspots on stored complaints (not the synthetic generator): the adapter reads the complaints table."""

import datetime as dt

import pytest
from django.core.management import call_command

from complaints.permissions import SYSTEM
from hotspots import adapters, services
from hotspots.models import LotScore

pytestmark = pytest.mark.django_db


def test_idle_land_complaints_from_the_complaints_table_link_to_the_yicheng_lot():
    call_command("complaints_demo_load", verbosity=0)
    call_command("hotspots_demo_load", "--no-compute", verbosity=0)
    frame = adapters.complaints_frame(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert len(frame) > 2000
    run = services.idle_lots_compute(frame=frame, period_end=dt.date(2025, 12, 31))
    assert run.summary["links"] > 0
    yicheng = LotScore.objects.get(run=run, parcel__code="LOT-HD-YICHENG")
    assert yicheng.complaints > 0
    assert yicheng.rank <= 5
    plan = services.fix_plan_create(parcel=yicheng.parcel, by=SYSTEM)
    names = " ".join(d["name"] for d in plan.departments)
    assert plan.street_name == "学院路街道"
    assert "城市管理" in names
