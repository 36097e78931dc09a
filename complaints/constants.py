"""Names shared by complaints' models, services, API and Open311 layer."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    """Where a complaint came in (受理渠道)."""

    PHONE = "phone", "12345 热线电话"
    WEB = "web", "网站"
    APP = "app", "移动应用"
    WECHAT = "wechat", "微信/小程序"
    OPEN311 = "open311", "Open311 接口"
    API = "api", "系统接口"
    BULK = "bulk", "批量导入"
    OTHER = "other", "其他"


class Urgency(models.TextChoices):
    """How fast a complaint must be handled; each maps to a deadline rule (办理时限)."""

    EMERGENCY = "emergency", "紧急（涉及生命财产安全）"
    UTILITY = "utility", "水电气热"
    GENERAL = "general", "一般"
    COMPLEX = "complex", "复杂"


class DeadlineUnit(models.TextChoices):
    HOURS = "hours", "小时（自然时）"
    WORKING_DAYS = "working_days", "工作日"


# Emergencies and utility outages are handled round the clock, so their limits run in clock hours; general and
# complex cases run in working days on the Chinese calendar (holidays and make-up working days are data).
DEADLINE_RULES: dict[str, tuple[int, str]] = {
    Urgency.EMERGENCY: (2, DeadlineUnit.HOURS),
    Urgency.UTILITY: (24, DeadlineUnit.HOURS),
    Urgency.GENERAL: (7, DeadlineUnit.WORKING_DAYS),
    Urgency.COMPLEX: (15, DeadlineUnit.WORKING_DAYS),
}


class LocationSource(models.TextChoices):
    """How the complaint's location was obtained."""

    GPS = "gps", "定位"
    GEOCODED = "geocoded", "地址解析"
    MANUAL = "manual", "人工标注"


class Status(models.TextChoices):
    """Lifecycle of a complaint (办理状态)."""

    RECEIVED = "received", "已受理"
    DISPATCHED = "dispatched", "已派单"
    ACCEPTED = "accepted", "已签收"
    RETURNED = "returned", "已退单"
    IN_PROGRESS = "in_progress", "办理中"
    RESOLVED = "resolved", "已办结"
    CLOSED = "closed", "已结案"
    REOPENED = "reopened", "重新办理"


# Allowed moves. dispatched ← returned is the review's re-dispatch; reopened → dispatched sends it out again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.DISPATCHED,),
    Status.DISPATCHED: (Status.ACCEPTED, Status.RETURNED),
    Status.RETURNED: (Status.DISPATCHED,),
    Status.ACCEPTED: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.IN_PROGRESS: (Status.RESOLVED,),
    Status.RESOLVED: (Status.CLOSED, Status.REOPENED),
    Status.CLOSED: (Status.REOPENED,),
    Status.REOPENED: (Status.IN_PROGRESS, Status.DISPATCHED),
}

# Statuses in which the complaint is still being handled (and so can be overdue).
OPEN_STATUSES = (
    Status.RECEIVED,
    Status.DISPATCHED,
    Status.ACCEPTED,
    Status.RETURNED,
    Status.IN_PROGRESS,
    Status.REOPENED,
)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)


class Satisfaction(models.TextChoices):
    """The caller's rating after the reply (满意度回访)."""

    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class AssignmentRole(models.TextChoices):
    """Why a unit holds the ticket."""

    LEAD = "lead", "主办（首接负责）"
    CO_HANDLER = "co_handler", "协办（抄送）"
    DEPARTMENT = "department", "职能部门（双派）"


class AssignmentState(models.TextChoices):
    ACTIVE = "active", "办理中"
    RETURNED = "returned", "已退回"
    ENDED = "ended", "已结束"


class ReturnReason(models.TextChoices):
    """Reason codes a unit must give for a return (退单理由)."""

    NOT_OUR_AREA = "not_our_area", "非本辖区"
    NOT_OUR_DUTY = "not_our_duty", "非本单位职责"
    DUPLICATE = "duplicate", "重复诉求"
    INSUFFICIENT_INFO = "insufficient_info", "信息不全无法办理"
    OTHER = "other", "其他"


class ReturnDecision(models.TextChoices):
    """Where a reviewed return ends (退单审核结果)."""

    PENDING = "pending", "待审核"
    REDISPATCHED = "redispatched", "改派"
    REJECTED = "rejected", "驳回，原单位继续办理"
    DISPUTED = "disputed", "转入管辖争议"


class ImportState(models.TextChoices):
    RUNNING = "running", "导入中"
    FINISHED = "finished", "已完成"
    FAILED = "failed", "失败"


CRS_CHOICES = ("wgs84", "gcj02", "bd09", "cgcs2000")


def option(name: str, default):
    """A complaints setting from settings.SHAOZI, with its default when the deployment does not set it."""
    return getattr(settings, "SHAOZI", {}).get(name, default)


def repeat_radius_m() -> float:
    """Radius (metres) within which a complaint of the same category counts as a repeat (重复诉求)."""
    return float(option("REPEAT_RADIUS_M", 250.0))


def repeat_window_days() -> int:
    """How many days back a repeat is looked for."""
    return int(option("REPEAT_WINDOW_DAYS", 30))


class JointCaseStatus(models.TextChoices):
    """State of a joint case (街乡吹哨、部门报到)."""

    OPEN = "open", "办理中"
    CLOSED = "closed", "已结案"


class PartyKind(models.TextChoices):
    """What a summoned party is: a functional department, or a street/township (or district) office."""

    DEPARTMENT = "department", "职能部门"
    STREET = "street", "街道/乡镇"
    DISTRICT = "district", "区"


# Default time a summoned party has to check in (签到), in clock hours.
JOINT_CHECK_IN_HOURS = 24
