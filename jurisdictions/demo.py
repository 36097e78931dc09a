"""Demo accounts, one per role, with published passwords (docs/roles.md). Production refuses them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.authtoken.models import Token

from .constants import AreaLevel, Role
from .models import Area, Department, StaffProfile

DEMO_PASSWORD = "shaozi-demo-2026"
DEMO_API_TOKEN = "shaozidemo000000000000000000000000000001"

# username, role, district code, street name (within that district), department code
DEMO_USERS = [
    ("admin", Role.ADMIN, "", "", ""),
    ("planner", Role.PLANNER, "", "", ""),
    ("xicheng", Role.DISTRICT, "110102", "", ""),
    ("fengtai", Role.DISTRICT, "110106", "", ""),
    ("haidian", Role.DISTRICT, "110108", "", ""),
    ("guangwai", Role.STREET, "110102", "广安门外街道", ""),
    ("taipingqiao", Role.STREET, "110106", "太平桥街道", ""),
    ("xueyuanlu", Role.STREET, "110108", "学院路街道", ""),
    ("xicheng_cgw", Role.DEPARTMENT, "", "", "110102.city_management"),
    ("fengtai_cgw", Role.DEPARTMENT, "", "", "110106.city_management"),
    ("api_client", Role.API_CLIENT, "", "", ""),
]


@transaction.atomic
def demo_users_create() -> list[StaffProfile]:
    """Create (or reset) the demo accounts; idempotent."""
    profiles = []
    for username, role, district_code, street_name, department_code in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(DEMO_PASSWORD)
        # The city administrator uses Django's admin too (/admin/): staff and superuser, demo only like the rest.
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        street_code = ""
        if street_name:
            street = Area.objects.current().get(level=AreaLevel.STREET, name=street_name, parent__code=district_code)
            street_code, district_code = street.code, ""
        department = Department.objects.filter(code=department_code).first() if department_code else None
        profile, _ = StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "role": role,
                "district_code": district_code,
                "street_code": street_code,
                "department": department,
                "demo": True,
            },
        )
        profiles.append(profile)
        if role == Role.API_CLIENT:
            Token.objects.filter(user=user).delete()
            Token.objects.create(user=user, key=DEMO_API_TOKEN)
    return profiles
