"""Names and settings of the monthly assessment (三率考核); definitions in docs/assessment.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Level(models.TextChoices):
    """Who is assessed: street/township offices (the lead, 主办), districts (their streets together), departments."""

    STREET = "street", "街道乡镇"
    DISTRICT = "district", "区"
    DEPARTMENT = "department", "部门"


# 响应 (first contact) limits by urgency, clock hours from the moment the unit received the ticket. The project has
# no separate "citizen contacted" record: signing for the ticket (签收) or any later handling step counts.
RESPONSE_HOURS = {"emergency": 2, "utility": 2, "general": 24, "complex": 24}

DEFAULT_WEIGHTS = {"response": 10, "resolution": 45, "satisfaction": 45}


def option(name: str, default):
    """An assessment setting from settings.SHAOZI, with its default when the deployment does not set it."""
    return getattr(settings, "SHAOZI", {}).get(name, default)


def weights() -> dict[str, float]:
    """The composite score's weights (响应率, 解决率, 满意率), SHAOZI["ASSESSMENT_WEIGHTS"], default 10/45/45."""
    given = option("ASSESSMENT_WEIGHTS", DEFAULT_WEIGHTS) or DEFAULT_WEIGHTS
    return {key: float(given.get(key, 0)) for key in DEFAULT_WEIGHTS}


def response_hours() -> dict[str, float]:
    """Response limits by urgency (hours), SHAOZI["ASSESSMENT_RESPONSE_HOURS"] overriding RESPONSE_HOURS."""
    return {**RESPONSE_HOURS, **(option("ASSESSMENT_RESPONSE_HOURS", {}) or {})}


def min_complaints() -> int:
    """Units with fewer complaints in the month are listed but not ranked (SHAOZI["ASSESSMENT_MIN_COMPLAINTS"])."""
    return int(option("ASSESSMENT_MIN_COMPLAINTS", 3))


def focus_count() -> int:
    """How many of the weakest ranked units of each level are 治理类重点 (SHAOZI["ASSESSMENT_FOCUS_COUNT"])."""
    return int(option("ASSESSMENT_FOCUS_COUNT", 10))


def published() -> bool:
    """Whether anonymous callers may read the ranking (SHAOZI["ASSESSMENT_PUBLISHED"], default no)."""
    return bool(option("ASSESSMENT_PUBLISHED", False))
