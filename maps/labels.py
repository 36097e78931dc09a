"""Words for the codes staff pages show (状态、方式、理由…): zh-Hans first, English second, never the raw code.

Each kind maps a stored code to (zh-Hans, English). The zh-Hans words are the models' own choice labels where the
apps define them; English is added here because pages switch languages. `label(kind, code)` answers with the code
itself only for a code no table knows (so a new code shows up rather than vanishing).
"""

from __future__ import annotations

from complaints import constants as complaint_constants
from jurisdictions import constants as jurisdiction_constants

ENGLISH: dict[str, dict[str, str]] = {
    "status": {
        "received": "received",
        "dispatched": "dispatched",
        "accepted": "accepted",
        "returned": "returned",
        "in_progress": "in progress",
        "resolved": "resolved",
        "closed": "closed",
        "reopened": "reopened",
    },
    "urgency": {
        "emergency": "emergency (2 h)",
        "utility": "water, power, gas, heat (24 h)",
        "general": "general (7 working days)",
        "complex": "complex (15 working days)",
    },
    "channel": {
        "phone": "12345 hotline",
        "web": "website",
        "app": "mobile app",
        "wechat": "WeChat",
        "open311": "Open311",
        "api": "system interface",
        "bulk": "bulk import",
        "other": "other",
    },
    "location_source": {"gps": "GPS", "geocoded": "geocoded address", "manual": "placed by hand"},
    "assignment_role": {
        "lead": "lead",
        "co_handler": "co-handler (copy)",
        "department": "department (double dispatch)",
    },
    "assignment_state": {"active": "holding", "returned": "returned", "ended": "ended"},
    "return_reason": {
        "not_our_area": "not our area",
        "not_our_duty": "not our duty",
        "duplicate": "duplicate",
        "insufficient_info": "not enough information",
        "other": "other",
    },
    "return_decision": {
        "pending": "waiting for review",
        "redispatched": "re-dispatched",
        "rejected": "rejected, the unit keeps it",
        "disputed": "turned into a boundary dispute",
    },
    "satisfaction": {"satisfied": "satisfied", "basically": "mostly satisfied", "unsatisfied": "not satisfied"},
    "method": {
        "rule": "jurisdiction rule",
        "building": "building footprint shares",
        "point": "point in area",
        "uncertain": "close to a boundary line (to be checked)",
        "outside": "outside every area",
    },
    "level": {"district": "district", "street": "street/township", "community": "community", "grid": "grid"},
    "role": {
        "admin": "city administrator",
        "planner": "planner",
        "district": "district staff",
        "street": "street staff",
        "department": "department staff",
        "api_client": "hotline system",
    },
    "dispute_status": {
        "open": "open",
        "under_review": "under review",
        "ruled": "ruled",
        "withdrawn": "withdrawn",
    },
    "dispute_origin": {"return": "from a return", "review": "verdict needs review", "manual": "opened by hand"},
    "ruling_status": {"proposed": "waiting for confirmation", "confirmed": "in effect", "superseded": "superseded"},
    "case_status": {"open": "open", "closed": "closed"},
    "party_kind": {"department": "department", "street": "street/township", "district": "district"},
    "audit": {
        "dispute.open": "opened the dispute",
        "dispute.status": "changed the status",
        "ruling.propose": "proposed a ruling",
        "ruling.confirm": "confirmed the ruling",
        "ruling.superseded": "ruling superseded",
        "rule.create": "rule made",
        "joint_case.open": "blew the whistle",
        "joint_case.check_in": "checked in",
        "joint_case.note": "added a note",
        "joint_case.task_add": "added a task",
        "joint_case.task_done": "finished a task",
        "joint_case.close": "closed the case",
    },
}

CHINESE: dict[str, dict[str, str]] = {
    "status": dict(complaint_constants.Status.choices),
    "urgency": dict(complaint_constants.Urgency.choices),
    "channel": dict(complaint_constants.Channel.choices),
    "location_source": dict(complaint_constants.LocationSource.choices),
    "assignment_role": dict(complaint_constants.AssignmentRole.choices),
    "assignment_state": dict(complaint_constants.AssignmentState.choices),
    "return_reason": dict(complaint_constants.ReturnReason.choices),
    "return_decision": dict(complaint_constants.ReturnDecision.choices),
    "satisfaction": dict(complaint_constants.Satisfaction.choices),
    "method": {
        "rule": "管辖规则",
        "building": "建筑物跨界占比",
        "point": "落点所在辖区",
        "uncertain": "近边界，不确定",
        "outside": "不在任何辖区",
    },
    "level": dict(jurisdiction_constants.AreaLevel.choices),
    "role": dict(jurisdiction_constants.Role.choices),
    "dispute_status": dict(jurisdiction_constants.DisputeStatus.choices),
    "dispute_origin": dict(jurisdiction_constants.DisputeOrigin.choices),
    "ruling_status": dict(jurisdiction_constants.RulingStatus.choices),
    "case_status": dict(complaint_constants.JointCaseStatus.choices),
    "party_kind": dict(complaint_constants.PartyKind.choices),
    "audit": {
        "dispute.open": "发起争议",
        "dispute.status": "变更状态",
        "ruling.propose": "提出裁定",
        "ruling.confirm": "确认裁定",
        "ruling.superseded": "裁定被取代",
        "rule.create": "形成管辖规则",
        "joint_case.open": "吹哨发起",
        "joint_case.check_in": "报到",
        "joint_case.note": "添加记录",
        "joint_case.task_add": "分派任务",
        "joint_case.task_done": "完成任务",
        "joint_case.close": "结案",
    },
}

# Keys of an audit entry's `changes`, in words.
CHANGE_KEYS = {
    "status": ("状态", "status"),
    "contested_codes": ("争议区划", "contested areas"),
    "lead_code": ("主办", "lead"),
    "co_handler_codes": ("协办", "co-handlers"),
    "make_rule": ("形成规则", "make a rule"),
    "reason": ("理由", "reason"),
    "district": ("确认方", "confirmed for"),
    "ruling": ("裁定", "ruling"),
    "by_ruling": ("被裁定取代", "superseded by ruling"),
    "party": ("报到单位", "party"),
    "late": ("逾期", "late"),
    "note": ("记录", "note"),
    "task": ("任务", "task"),
    "assignee": ("承办方", "assignee"),
    "summoned": ("被召集", "summoned"),
    "lead_codes": ("牵头", "leads"),
    "complaints": ("诉求", "complaints"),
    "refs": ("关联", "linked"),
    "never_checked_in": ("未报到", "never checked in"),
}


def label(kind: str, code) -> tuple[str, str]:
    """(zh-Hans, English) words for `code` of `kind`; an unknown code is shown as it is in both."""
    if code is None or code == "":
        return ("—", "—")
    code = str(code)
    return (CHINESE.get(kind, {}).get(code, code), ENGLISH.get(kind, {}).get(code, code))


def choices(kind: str) -> list[tuple[str, str, str]]:
    """(code, zh-Hans, English) for every code of `kind`, in the apps' order."""
    return [(code, zh, ENGLISH.get(kind, {}).get(code, code)) for code, zh in CHINESE[kind].items()]
