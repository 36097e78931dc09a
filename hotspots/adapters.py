"""The one place hotspots reads the complaints app: a complaints frame, and the joint-case hook.

Everything else in hotspots works on the frame (columns of `hotspots.analysis.COMPLAINT_COLUMNS`), so the
analysis runs the same on stored complaints and on the synthetic demo.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from .analysis import COMPLAINT_COLUMNS


class ComplaintsUnavailable(RuntimeError):
    """The complaints app has no Complaint model or table yet."""


def complaints_available() -> bool:
    """Whether stored complaints can be read (model importable and its table present)."""
    try:
        from complaints.models import Complaint
    except ImportError:
        return False
    from django.db import connection

    return Complaint._meta.db_table in connection.introspection.table_names()


def complaints_frame(
    *, start: dt.date | None = None, end: dt.date | None = None, category: str | None = None
) -> pd.DataFrame:
    """Stored complaints received in [start, end] (dates inclusive), optionally of categories under `category`."""
    try:
        from complaints.models import Complaint
    except ImportError as exc:
        raise ComplaintsUnavailable("诉求模块不可用 the complaints app has no Complaint model") from exc
    qs = Complaint.objects.all()
    if start is not None:
        qs = qs.filter(received_at__date__gte=start)
    if end is not None:
        qs = qs.filter(received_at__date__lte=end)
    if category:
        qs = qs.filter(category__code__startswith=category)
    rows = qs.values_list(
        "pk",
        "location",
        "received_at",
        "category__code",
        "category__name",
        "category__department_role",
        "street_code",
        "street_name",
        "district_code",
        "status",
        "closed_at",
        "verdict",
    ).iterator(chunk_size=20_000)
    records = []
    for pk, location, received, code, name, role, street, street_name, district, status, closed, verdict in rows:
        building = (verdict or {}).get("building") or {}
        records.append(
            (
                str(pk),
                location.x,
                location.y,
                received,
                code,
                name,
                role or "",
                street or "",
                street_name or "",
                district or "",
                status,
                closed,
                str(building.get("code", "")) if isinstance(building, dict) else "",
            )
        )
    frame = pd.DataFrame.from_records(records, columns=list(COMPLAINT_COLUMNS))
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    return frame


class JointCaseUnavailable(RuntimeError):
    """The complaints app offers no joint case (街乡吹哨、部门报到) service yet."""


def joint_case_start(*, title: str, street_code: str, department_codes: list[str], refs: list[str], by: Any) -> str:
    """Start a joint case through the complaints app and return its reference ("joint_case:<id>").

    Calls `complaints.services.joint_case_start(title=, street_code=, department_codes=, complaint_refs=, by=)`
    when it exists; until then raises JointCaseUnavailable. `by` is the acting user (or complaints' system
    principal), never a user name: the complaints app checks who may blow the whistle.
    """
    try:
        from complaints import services
    except ImportError as exc:
        raise JointCaseUnavailable("联合办案尚不可用 joint cases are not available yet") from exc
    start = getattr(services, "joint_case_start", None)
    if start is None:
        raise JointCaseUnavailable("联合办案尚不可用 joint cases are not available yet")
    case = start(title=title, street_code=street_code, department_codes=department_codes, complaint_refs=refs, by=by)
    return f"joint_case:{getattr(case, 'pk', case)}"
