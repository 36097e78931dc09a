"""Who may write what on complaints and joint cases (权限): the checks the services make, on top of
`jurisdictions.permissions` (Scope, scope_for, require).

Services receive `by`: a Django user, or the explicit system principal (`SYSTEM`, or a `SystemPrincipal` naming
the command or job acting, e.g. `SystemPrincipal("manage.py complaints_import")`), which is trusted. Anything
else — `None`, a user name as text — is refused with a TypeError: a request must never reach a service as the
system by accident. Every API view requires a logged-in user and passes that user.

Reads follow one policy, `ComplaintQuerySet.readable_by(scope)`; `may_read_complaint` asks it for one complaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jurisdictions.constants import Role
from jurisdictions.permissions import Scope, ScopeDenied, require, require_role, scope_for

# Who may take complaints in (受理): the hotline's systems, administrators, district and street offices.
INTAKE_ROLES = (Role.API_CLIENT, Role.ADMIN, Role.DISTRICT, Role.STREET)
# The hotline itself (its systems): closes a complaint after calling the citizen back, or reopens it.
HOTLINE_ROLES = (Role.API_CLIENT,)
# Who may blow the whistle (吹哨).
WHISTLE_ROLES = (Role.STREET, Role.DISTRICT, Role.ADMIN)


@dataclass(frozen=True)
class SystemPrincipal:
    """The system acting (a management command, a demo builder, a ruling taking effect), not a logged-in person.

    `label` is what history and audit entries record as the actor (e.g. "manage.py complaints_import").
    """

    label: str = "system"

    def __str__(self) -> str:
        return self.label


SYSTEM = SystemPrincipal("system")


def is_system(by: Any) -> bool:
    """True only for the explicit system principal; never for None or a user name given as text."""
    return isinstance(by, SystemPrincipal)


def require_actor(by: Any) -> None:
    """Refuse an actor that is neither a user nor the system principal (None, a user name as text …)."""
    if is_system(by):
        return
    if by is None or isinstance(by, str) or not hasattr(by, "get_username"):
        raise TypeError(
            f"by 须为用户或 complaints.permissions.SYSTEM — a service needs a User or the system principal "
            f"(SystemPrincipal), not {by!r}"
        )


def actor_scope(by: Any) -> Scope | None:
    """The scope a user acts in, None for the system principal; TypeError for anything else."""
    require_actor(by)
    return None if is_system(by) else scope_for(by)


def holds_unit(scope: Scope, *, area_code: str = "", department_code: str = "") -> bool:
    """True when the user answers for a unit: its street, its district (for areas), or its department."""
    if scope.role == Role.ADMIN:
        return True
    if department_code:
        return scope.role == Role.DEPARTMENT and scope.department_code == department_code
    if area_code:
        return scope.role in (Role.STREET, Role.DISTRICT) and scope.covers(area_code)
    return False


def check_intake(by: Any, *, codes: list[str] | None = None) -> None:
    """Intake by api_client, admin, district or street staff; district and street staff only for complaints
    whose verdict (district, street or lead) lies in their scope. Without `codes`, only the role is checked."""
    scope = actor_scope(by)
    if scope is None:
        return
    require_role(scope, INTAKE_ROLES, "受理诉求 take complaints in")
    if codes is None or scope.role in (Role.API_CLIENT, Role.ADMIN):
        return
    require(
        any(code and scope.covers(code) for code in codes),
        scope,
        "诉求地点不在你的辖区 the complaint lies outside your area",
        verdict_codes=[c for c in codes if c],
    )


def bulk_scope(by: Any) -> str:
    """Who may import a complaint file, and where: "" for anywhere (system, api clients, administrators), else
    the code prefix rows must lie in (a district's code, or a street's); other roles are refused."""
    scope = actor_scope(by)
    if scope is None:
        return ""
    require_role(scope, INTAKE_ROLES, "批量导入诉求 import complaint files")
    if scope.role in (Role.API_CLIENT, Role.ADMIN):
        return ""
    prefix = scope.district_code or scope.street_code
    require(bool(prefix), scope, "账号未设辖区 the account has no area", role=scope.role)
    return prefix


def check_rate(by: Any) -> None:
    """The caller's rating is recorded by the hotline (api_client) or an administrator, never by the unit."""
    scope = actor_scope(by)
    if scope is None:
        return
    require_role(scope, (Role.API_CLIENT, Role.ADMIN), "记录满意度 record the caller's satisfaction")


def check_handler(by: Any, complaint, assignments, action: str, also_roles: tuple[str, ...] = ()) -> None:
    """Accept / progress / resolve / return: staff of a unit holding the complaint (its street, its district,
    its department) or an administrator; `also_roles` may act too (the hotline closes after the call-back)."""
    scope = actor_scope(by)
    if scope is None:
        return
    if scope.role in also_roles:
        return
    units = [(a.area_code, a.department.code if a.department_id else "") for a in assignments]
    require(
        any(holds_unit(scope, area_code=area, department_code=dept) for area, dept in units),
        scope,
        f"只有承办单位（街道、所属区、部门）或市级管理员可以{action} — only the unit holding the complaint, its "
        f"district or a city administrator may {action}",
        complaint=complaint.pk,
        units=[area or dept for area, dept in units],
    )


def check_reviewer(by: Any, complaint, action: str) -> None:
    """Review of returns and re-dispatch: district staff of the complaint's district, or an administrator."""
    scope = actor_scope(by)
    if scope is None:
        return
    if scope.role == Role.ADMIN:
        return
    district = complaint.district_code or complaint.lead_code[:6]
    require(
        scope.role == Role.DISTRICT and bool(district) and scope.district_code == district,
        scope,
        f"只有诉求所在区的区级工作人员或市级管理员可以{action} — only staff of the complaint's district or a city "
        f"administrator may {action}",
        complaint=complaint.pk,
        district=district or None,
    )


def may_read_complaint(scope: Scope, complaint) -> bool:
    """The read policy for one complaint: the same as every list (`ComplaintQuerySet.readable_by`).

    City-wide roles and the hotline's systems read every complaint; district staff those whose verdict (district,
    street or lead) lies in their district or that were ever assigned to a unit of it; street staff likewise for
    their street; department staff those assigned to their department; anyone else none.
    """
    from .models import Complaint

    if scope.city_wide or scope.role == Role.API_CLIENT:
        return True
    return Complaint.objects.readable_by(scope).filter(pk=complaint.pk).exists()


def may_read_case(scope: Scope, case) -> bool:
    """The read policy for one joint case: the same as the lists (`JointCaseQuerySet.visible_to`)."""
    from .models import JointCase

    if scope.city_wide:
        return True
    return JointCase.objects.visible_to(scope).filter(pk=case.pk).exists()


# --- joint cases -----------------------------------------------------------------------------------------------


def manages_case(scope: Scope, case) -> bool:
    """Leads' staff (a street lead, or the district of any lead) and administrators manage a joint case."""
    if scope.role == Role.ADMIN:
        return True
    return scope.role in (Role.STREET, Role.DISTRICT) and any(scope.covers(code) for code in case.lead_codes)


def is_party(scope: Scope, party) -> bool:
    """The user checks in for this summoned party: its department's staff, its street's (or district's) staff."""
    if scope.role == Role.ADMIN:
        return True
    if party.kind == "department":
        return scope.role == Role.DEPARTMENT and scope.department_code == party.code
    if party.kind == "street":
        return scope.role == Role.STREET and scope.street_code == party.code
    return scope.role == Role.DISTRICT and scope.district_code == party.code


def takes_part(scope: Scope, case, parties) -> bool:
    """Leads, summoned parties and city-wide roles see a joint case and may add notes."""
    return scope.city_wide or manages_case(scope, case) or any(is_party(scope, p) for p in parties)


def check_whistle_role(by: Any) -> None:
    """Only street and district staff (and administrators) blow the whistle."""
    scope = actor_scope(by)
    if scope is not None:
        require_role(scope, WHISTLE_ROLES, "吹哨发起联合办案 blow the whistle")


def check_whistle(by: Any, lead_codes: list[str]) -> None:
    """Street or district staff blow the whistle for their own areas. A cross-district case may name a street
    of another district as a co-lead, as long as one lead is the user's own; administrators anything."""
    scope = actor_scope(by)
    if scope is None:
        return
    require_role(scope, WHISTLE_ROLES, "吹哨发起联合办案 blow the whistle")
    if scope.role == Role.ADMIN:
        return
    own = [code for code in lead_codes if scope.covers(code)]
    own_districts = {code[:6] for code in own}
    others = [code for code in lead_codes if not scope.covers(code)]
    require(
        bool(own) and all(code[:6] not in own_districts for code in others),
        scope,
        "牵头单位须在你的辖区内（跨区案件可另列他区街道为共同牵头）— the leads must lie in your area (a cross-district "
        "case may name another district's street as a co-lead)",
        lead_codes=lead_codes,
    )


def check_manager(by: Any, case, action: str) -> None:
    scope = actor_scope(by)
    if scope is None:
        return
    require(
        manages_case(scope, case),
        scope,
        f"只有牵头单位或市级管理员可以{action} — only the leads or a city administrator may {action}",
        lead_codes=case.lead_codes,
    )


def check_participant(by: Any, case, parties, action: str) -> None:
    scope = actor_scope(by)
    if scope is None:
        return
    require(
        scope.role != Role.PLANNER and takes_part(scope, case, parties),
        scope,
        f"只有牵头单位、被召集单位或市级管理员可以{action} — only the leads, the summoned parties or a city "
        f"administrator may {action}",
        lead_codes=case.lead_codes,
    )


def check_party(by: Any, party, action: str) -> None:
    scope = actor_scope(by)
    if scope is None:
        return
    require(
        is_party(scope, party),
        scope,
        f"只有被召集单位 {party.name} 的工作人员可以{action} — only staff of {party.code} may {action}",
        party=party.code,
    )


__all__ = [
    "HOTLINE_ROLES",
    "INTAKE_ROLES",
    "SYSTEM",
    "ScopeDenied",
    "SystemPrincipal",
    "actor_scope",
    "bulk_scope",
    "check_handler",
    "check_intake",
    "check_manager",
    "check_participant",
    "check_party",
    "check_rate",
    "check_reviewer",
    "check_whistle",
    "check_whistle_role",
    "is_party",
    "is_system",
    "manages_case",
    "may_read_case",
    "may_read_complaint",
    "require",
    "require_actor",
    "scope_for",
    "takes_part",
]
