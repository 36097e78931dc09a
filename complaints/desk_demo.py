"""演示工作台 The desk demo: the seed's situation in progress, so every demo account has work on its first login.

All of it is **synthetic** (external ids `DESK-DEMO-…`, "【合成演示数据 synthetic】" in every description) and made by
the same services the pages call, acting as the demo accounts would (docs/desk.md lists who finds what):

- 广外 (guangwai): complaints to accept — one overdue, one due today, one fresh — one accepted and waiting for
  progress, one resolved waiting for the hotline's call-back; 西城区城管委 (xicheng_cgw) holds copies of two.
- 学院路 (xueyuanlu): one overdue, one due today; 太平桥 (taipingqiao) and 丰台区城管委 (fengtai_cgw): one fresh.
- The straddling building on the 广外 / 太平桥 line (SYN-B-0001): a complaint 广外 returned, which 西城区 turned into a
  boundary dispute and proposed a ruling for (广外 leads, 太平桥 assists) — waiting for 丰台区 (fengtai) to confirm.
- A complaint on the 广外 / 太平桥 street line (its verdict needs review) that 广外 returned, for 西城区 (xicheng)
  to review.
- A cross-district joint case at the building: 西城区城管委 has checked in, 丰台区城管委 (fengtai_cgw) has not.

Idempotent: nothing is done when the first demo ticket exists already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import User
from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.db import transaction
from django.utils import timezone

from jurisdictions import disputes as dispute_services
from jurisdictions.demo import demo_users_create
from jurisdictions.models import Area, Building, Dispute
from jurisdictions.selectors import jurisdiction_lookup

from . import services
from .models import Complaint
from .permissions import SystemPrincipal

PREFIX = "DESK-DEMO-"
SYNTHETIC = "【合成演示数据 synthetic】"
GUANGWAI, TAIPINGQIAO, XUEYUANLU = "110102020", "110106002", "110108010"
BUILDING = "SYN-B-0001"
ACCURACY_M = 40.0
SYSTEM = SystemPrincipal("manage.py desk_demo_load")


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _inside(code: str, east: float = 0.0, north: float = 0.0) -> Point:
    """A point inside street `code`: its point on surface, moved by (east, north) degrees when still inside."""
    area = Area.objects.current().get(code=code)
    base = area.geom.point_on_surface
    moved = Point(base.x + east, base.y + north, srid=4326)
    return moved if area.geom.covers(moved) else base


def _shared_line_point(a: str, b: str) -> Point:
    """The middle of the boundary two streets share (where a GPS point cannot be sure which side it is on)."""
    first, second = (Area.objects.current().get(code=code).geom for code in (a, b))
    line = first.boundary.intersection(second.boundary)
    if isinstance(line, MultiLineString):
        line = max(line, key=lambda part: part.length)
    if not isinstance(line, LineString) or line.empty:
        return first.point_on_surface
    middle = line.interpolate_normalized(0.5)
    # A point just beside the line on `a`'s side, close enough that the verdict still needs review.
    for dx, dy in ((-0.0002, 0), (0, 0.0002), (0.0002, 0), (0, -0.0002), (0, 0)):
        point = Point(middle.x + dx, middle.y + dy, srid=4326)
        verdict = jurisdiction_lookup(point=point, at=timezone.localdate(), accuracy_m=ACCURACY_M).as_dict()
        if (verdict.get("lead") or {}).get("code") == a and verdict.get("needs_review"):
            return point
    return Point(middle.x, middle.y, srid=4326)


def _intake(number: int, category: str, point: Point, *, hours_ago: float, text: str, **extra) -> Complaint:
    data = services.IntakeData(
        category=category,
        lon=point.x,
        lat=point.y,
        external_id=f"{PREFIX}{number:02d}",
        received_at=timezone.now() - dt.timedelta(hours=hours_ago),
        channel="phone",
        description=f"{text}{SYNTHETIC}",
        address=extra.pop("address", ""),
        **extra,
    )
    return services.complaint_intake(data=data, by=SYSTEM).complaint


@transaction.atomic
def desk_demo_load(*, progress: Callable[[str], None] = lambda message: None) -> bool:
    """Load the desk demo (see the module's docstring); False when it is there already."""
    demo_users_create()  # also brings older demo databases' accounts up to date (the admin's /admin/ rights)
    if Complaint.objects.filter(external_id=f"{PREFIX}01").exists():
        return False
    guangwai, xicheng = _user("guangwai"), _user("xicheng")

    progress("工单 complaints for 广外, 学院路, 太平桥 …")
    _intake(
        1,
        "010201",
        _inside(GUANGWAI, 0.002),
        hours_ago=24 * 12,
        text="小区门口垃圾堆放多日无人清运",
        address="广外红居街",
    )
    _intake(2, "030101", _inside(GUANGWAI, -0.002), hours_ago=20, text="整栋楼停水，已近一天", address="广外手帕口北街")
    _intake(
        3, "020303", _inside(GUANGWAI, 0.0, 0.002), hours_ago=1, text="路灯不亮，夜间出行不便", address="广外鸭子桥路"
    )
    accepted = _intake(
        7, "020301", _inside(GUANGWAI, 0.001, -0.001), hours_ago=30, text="人行道路面破损", address="广外湾子"
    )
    services.complaint_transition(complaint=accepted, to="accepted", by=guangwai)
    resolved = _intake(
        8, "010204", _inside(GUANGWAI, -0.001, 0.001), hours_ago=50, text="道路不洁", address="广外天宁寺"
    )
    services.complaint_transition(complaint=resolved, to="accepted", by=guangwai)
    services.complaint_transition(complaint=resolved, to="resolved", by=guangwai, note="已安排保洁，道路已清扫干净")
    _intake(
        4,
        "010204",
        _inside(XUEYUANLU, 0.002),
        hours_ago=24 * 14,
        text="闲置地块扬尘，道路不洁",
        address="学院路逸成东苑",
    )
    _intake(5, "030302", _inside(XUEYUANLU, -0.002), hours_ago=18, text="燃气停供", address="学院路石油大院")
    _intake(6, "020301", _inside(TAIPINGQIAO, 0.001), hours_ago=3, text="路面塌陷", address="太平桥西路")

    progress("交界建筑：退单 → 争议 → 西城区提出裁定 the straddling building: return → dispute → proposal …")
    building = Building.objects.get(code=BUILDING)
    at_building = _intake(
        10,
        "020102",
        building.geom.point_on_surface,
        hours_ago=72,
        text="两层违建横跨广外/太平桥交界，居民反映多年无人拆除",
        address="广外/太平桥交界",
    )
    returned = services.complaint_return(
        complaint=at_building,
        reason="not_our_area",
        note="违建主体在太平桥一侧",
        suggested_code=TAIPINGQIAO,
        by=guangwai,
    )
    decided = services.return_dispute(return_request=returned, by=xicheng, note="交界违建，提请两区裁定")
    dispute = Dispute.objects.get(pk=int(decided.dispute_ref.split(":", 1)[1]))
    dispute_services.dispute_rule(
        dispute=dispute,
        by=xicheng,
        lead_code=GUANGWAI,
        co_handler_codes=[TAIPINGQIAO],
        reason="违建七成在广外：广外牵头，太平桥协办",
    )

    progress("退单待审核 a return waiting for 西城区 …")
    on_line = _intake(
        11,
        "010201",
        _shared_line_point(GUANGWAI, TAIPINGQIAO),
        hours_ago=6,
        text="街道交界处垃圾堆放",
        address="广外/太平桥交界路口",
        accuracy_m=ACCURACY_M,
    )
    services.complaint_return(
        complaint=on_line,
        reason="not_our_area",
        note="点位在街道交界，垃圾在太平桥一侧",
        suggested_code=TAIPINGQIAO,
        by=guangwai,
    )

    progress("联合办案 a joint case waiting for 丰台区城管委 …")
    case = services.whistle_blow(
        by=guangwai,
        title="广外/太平桥交界违建联合拆除（演示）",
        leads=[GUANGWAI, TAIPINGQIAO],
        summon=["110102.city_management", "110106.city_management", "110102.urban_enforcement"],
        complaints=[at_building.pk],
        disputes=[f"dispute:{dispute.pk}"],
        check_in_hours=48,
    )
    services.check_in(case=case, by=_user("xicheng_cgw"), party="110102.city_management")
    services.case_task_add(case=case, by=guangwai, text="核实违建南侧加层情况", assignee="110106.city_management")
    services.case_note_add(case=case, by=guangwai, text="已约两区城管委现场会商")
    return True
