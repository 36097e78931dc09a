"""Who may do what where: a user's scope (区 / 街道 / 部门 / 全市) and the checks every write makes."""

from __future__ import annotations

from dataclasses import dataclass

from .constants import Role


class ScopeDenied(PermissionError):
    """A user acted outside their scope; the message says why (zh-Hans, then English)."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class Scope:
    """The part of the city a user answers for. District scope covers the district's streets (codes share
    the district's six-digit prefix)."""

    username: str
    role: str | None
    district_code: str = ""
    street_code: str = ""
    department_code: str = ""

    @property
    def city_wide(self) -> bool:
        return self.role in (Role.ADMIN, Role.PLANNER)

    def covers(self, code: str) -> bool:
        """True when area `code` (district or street) lies within this scope."""
        if self.role == Role.ADMIN or self.role == Role.PLANNER:
            return True
        if self.district_code:
            return code.startswith(self.district_code)
        if self.street_code:
            return code == self.street_code
        return False

    def describe(self) -> str:
        where = self.district_code or self.street_code or self.department_code or "全市 city"
        return f"{self.username}: {self.role or '无角色 no role'} @ {where}"

    def as_dict(self) -> dict:
        return {
            "user": self.username,
            "role": self.role,
            "district": self.district_code or None,
            "street": self.street_code or None,
            "department": self.department_code or None,
        }


def scope_for(user) -> Scope:
    """The scope of a Django user (no profile: no role; superusers act as city administrators)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(username="anonymous", role=None)
    profile = getattr(user, "staff", None)
    if profile is None:
        return Scope(username=user.get_username(), role=Role.ADMIN if user.is_superuser else None)
    return Scope(
        username=user.get_username(),
        role=profile.role,
        district_code=profile.district_code,
        street_code=profile.street_code,
        department_code=profile.department.code if profile.department_id else "",
    )


def require(condition: bool, scope: Scope, message: str, **details) -> None:
    """Raise ScopeDenied with `message` and the user's scope unless `condition` holds."""
    if not condition:
        raise ScopeDenied(message, {"your_scope": scope.as_dict(), **details})


def require_role(scope: Scope, roles: tuple[str, ...], action: str) -> None:
    require(
        scope.role in roles,
        scope,
        f"无权{action}：需要角色 {', '.join(roles)} — not allowed to {action}",
        required_roles=list(roles),
    )
