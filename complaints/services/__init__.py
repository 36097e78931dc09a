"""Writes for complaints: intake, dispatch (直派), status changes, returns (退单) and their review, joint cases
(吹哨 → 报到), reference data.

Every write takes `by` — a user, or the explicit system principal `complaints.permissions.SYSTEM` (or another
`SystemPrincipal` naming the command acting) — and checks it against the user's scope (`complaints.permissions`);
a refusal is a `ScopeDenied`, which the API turns into 403 saying why. `None` or a user name as text is refused
with a TypeError.

The writes are grouped by what they do: `base` (errors, history, assignments, dispatch), `intake`, `lifecycle`,
`returns`, `reference`, `joint_cases`; every public name is importable from `complaints.services`.
"""

from .base import AddressNotFound, ComplaintError, actor
from .intake import (
    IntakeData,
    IntakeResult,
    category_leaf,
    complaint_intake,
    geocode_address,
    link_repeats,
    new_external_id,
    verdict_for,
)
from .joint_cases import (
    case_close,
    case_note_add,
    case_task_add,
    case_task_complete,
    check_in,
    joint_case_start,
    whistle_blow,
)
from .lifecycle import complaint_note_add, complaint_rate, complaint_transition
from .reference import calendar, calendar_load, catalogue_load
from .returns import (
    complaint_redispatch,
    complaint_return,
    redispatch_per_ruling,
    return_dispute,
    return_redispatch,
    return_reject,
)

__all__ = [
    "AddressNotFound",
    "ComplaintError",
    "IntakeData",
    "IntakeResult",
    "actor",
    "calendar",
    "calendar_load",
    "case_close",
    "case_note_add",
    "case_task_add",
    "case_task_complete",
    "catalogue_load",
    "category_leaf",
    "check_in",
    "complaint_intake",
    "complaint_note_add",
    "complaint_rate",
    "complaint_redispatch",
    "complaint_return",
    "complaint_transition",
    "geocode_address",
    "joint_case_start",
    "link_repeats",
    "new_external_id",
    "redispatch_per_ruling",
    "return_dispute",
    "return_redispatch",
    "return_reject",
    "verdict_for",
    "whistle_blow",
]
