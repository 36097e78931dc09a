"""Where complaints meet boundary disputes (管辖争议), both ways, without jurisdictions knowing complaints.

- A reviewed return that turns into a dispute calls `open_return_dispute`, which opens a dispute through
  `jurisdictions.disputes.dispute_open` (origin "return", origin_ref "complaint:<id>") when that module exists.
- When a ruling takes effect, jurisdictions calls the callbacks registered with `jurisdictions.hooks`;
  `ruling_confirmed` (registered in ComplaintsConfig.ready) re-dispatches the complaints waiting on that dispute
  to the unit the ruling names.

Both look the jurisdictions modules up when called, so complaints keeps working where they are not installed.
"""

from __future__ import annotations

import importlib
from typing import Any


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def open_return_dispute(*, complaint, return_request, by: Any) -> str:
    """Open a dispute for a return (退单) whose place (its building, when the verdict named one) is contested;
    returns "dispute:<id>" or "" if unavailable."""
    disputes = _module("jurisdictions.disputes")
    if disputes is None or not hasattr(disputes, "dispute_open"):
        return ""
    codes = [c for c in (return_request.assignment.area_code, return_request.suggested_code) if c]
    # A complaint the engine placed by a building footprint disputes the building, so the ruling's rule covers
    # the whole building and not only a circle around this one point.
    building = None
    building_code = ((complaint.verdict or {}).get("building") or {}).get("code")
    if building_code:
        models = _module("jurisdictions.models")
        building = models.Building.objects.filter(code=building_code).first() if models else None
    from .permissions import is_system

    dispute = disputes.dispute_open(
        # jurisdictions knows no system principal of ours: there the system acts as `None`.
        by=None if is_system(by) else by,
        title=f"退单争议：{complaint.category.name} {complaint.address or complaint.external_id}",
        origin="return",
        origin_ref=f"complaint:{complaint.pk}",
        description=f"{return_request.get_reason_display()}：{return_request.note}",
        point=complaint.location,
        building=building,
        contested_codes=codes,
        accuracy_m=complaint.accuracy_m,
        at=complaint.received_at.date(),
        complaints=[{"id": complaint.pk, "external_id": complaint.external_id, "category": complaint.category.code}],
    )
    return f"dispute:{dispute.pk}"


def ruling_confirmed(*, ruling, by) -> list[int]:
    """Re-dispatch the complaints whose returns became this ruling's dispute to the ruling's lead."""
    from .constants import ReturnDecision, Status
    from .models import Complaint
    from .permissions import SystemPrincipal, is_system
    from .services import redispatch_per_ruling

    reference = f"dispute:{ruling.dispute_id}"
    # The authority is the ruling itself: the user who confirmed it last is recorded; a ruling confirmed by a
    # job or command (jurisdictions passes no user then) acts as the system principal named after the ruling.
    if not (is_system(by) or getattr(by, "pk", None)):
        by = SystemPrincipal(f"裁定 ruling of {reference}")
    waiting = Complaint.objects.filter(
        status=Status.RETURNED, returns__decision=ReturnDecision.DISPUTED, returns__dispute_ref=reference
    ).distinct()
    done = []
    for complaint in waiting:
        redispatch_per_ruling(
            complaint=complaint, to_code=ruling.lead_code, by=by, note=f"按争议裁定 per ruling {reference}"
        )
        done.append(complaint.pk)
    return done


def register() -> None:
    """Register the ruling callback with jurisdictions (called once from ComplaintsConfig.ready)."""
    hooks = _module("jurisdictions.hooks")
    if hooks is not None and hasattr(hooks, "on_ruling_confirmed"):
        hooks.on_ruling_confirmed(ruling_confirmed)
