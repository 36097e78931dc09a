"""Names shared by jurisdictions' models, services and API."""

from django.db import models


class AreaLevel(models.TextChoices):
    """Administrative level of an area; code lengths follow GB/T 2260 and its extensions."""

    DISTRICT = "district", "区"
    STREET = "street", "街道/乡镇"
    COMMUNITY = "community", "社区/村"
    GRID = "grid", "网格"


LEVEL_ORDER = [AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID]
PARENT_LEVEL = {
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
}
CODE_LENGTHS = {AreaLevel.DISTRICT: 6, AreaLevel.STREET: 9, AreaLevel.COMMUNITY: 12}


class Role(models.TextChoices):
    """What a staff account may do; scope fields on the profile say where."""

    PLANNER = "planner", "规划人员"
    DISTRICT = "district", "区级工作人员"
    STREET = "street", "街道/乡镇工作人员"
    DEPARTMENT = "department", "部门工作人员"
    API_CLIENT = "api_client", "接口客户端"
    ADMIN = "admin", "市级管理员"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "待处理"
    UNDER_REVIEW = "under_review", "审查中"
    RULED = "ruled", "已裁定"
    WITHDRAWN = "withdrawn", "已撤回"


class DisputeOrigin(models.TextChoices):
    RETURN = "return", "退单"
    REVIEW = "review", "判定需复核"
    MANUAL = "manual", "人工发起"


class RulingStatus(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    CONFIRMED = "confirmed", "已生效"
    SUPERSEDED = "superseded", "已被取代"
