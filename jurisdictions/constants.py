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
