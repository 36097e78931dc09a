"""The complaints demo's handling history (办理记录): the steps of fixtures/complaints/complaints-demo-history.csv
written as status changes of the demo complaints, in place of the one row the bulk import gives each.

All of it is **synthetic** (fixtures/build_complaints.py makes the file; docs/assessment.md describes the outcomes).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .constants import DONE_STATUSES, Satisfaction, Status
from .deadlines import LOCAL_TZ, WorkCalendar
from .models import Assignment, Complaint, StatusChange

# The note the bulk importer gives a complaint's one history row (complaints/bulk/writing.py).
BULK_NOTE = "批量导入 bulk import"
HOTLINE = "12345热线"
# Steps taken by the lead unit; the hotline takes the others (dispatch, call-back, closing, reopening).
UNIT_STEPS = (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED)
NOTES = {
    Status.DISPATCHED: "派单 dispatched",
    Status.ACCEPTED: "签收 accepted",
    Status.IN_PROGRESS: "办理中 in progress",
    Status.RESOLVED: "办结 resolved",
    Status.CLOSED: "回访后结案 closed after the call-back",
    Status.REOPENED: "回访不满意，重新办理 call-back: unsolved, reopened",
}


@transaction.atomic
def demo_history_apply(*, source: Path) -> int:
    """Give the demo complaints their handling history from `source` (complaints-demo-history.csv: per external id
    its steps after receipt, "<status or rating>@<minutes>"), in place of the one row the bulk import writes.

    Only complaints whose history is still that one import row are touched, so running it again, or after users
    have handled some demo complaints, changes nothing else. Sets status, rating, resolved/closed times, the
    deadline after a reopening and the assignments' times and states as the steps leave them. Returns how many
    complaints got their history.
    """
    with Path(source).open(encoding="utf-8", newline="") as handle:
        steps = {row["external_id"]: row["steps"].split() for row in csv.DictReader(handle)}
    # Still as imported: the import's row and nothing else (semi- and anti-join, whatever the table statistics).
    rows = StatusChange.objects.filter(complaint=OuterRef("pk"))
    fresh = list(
        Complaint.objects.filter(external_id__in=list(steps))
        .filter(Exists(rows.filter(note=BULK_NOTE)))
        .exclude(Exists(rows.exclude(note=BULK_NOTE)))
    )
    if not fresh:
        return 0
    received = sorted(c.received_at.astimezone(LOCAL_TZ).date() for c in fresh)
    calendar = WorkCalendar.load(received[0], received[-1] + dt.timedelta(days=120))
    now = timezone.now()
    changes = []
    for complaint in fresh:
        received = complaint.received_at
        status, rating = Status.RECEIVED, ""
        resolved_at = closed_at = None
        deadline_at = complaint.deadline_at
        changes.append(
            StatusChange(
                complaint=complaint, from_status="", to_status=status, at=received, by=HOTLINE, note="受理 received"
            )
        )
        for token in steps[complaint.external_id]:
            name, minutes = token.rsplit("@", 1)
            at = received + dt.timedelta(minutes=int(minutes))
            if name in Satisfaction.values:
                rating = name
                note = f"满意度：{Satisfaction(name).label}"
                changes.append(
                    StatusChange(
                        complaint=complaint, from_status=status, to_status=status, at=at, by=HOTLINE, note=note
                    )
                )
                continue
            by = (complaint.lead_name or "承办单位") if name in UNIT_STEPS else HOTLINE
            changes.append(
                StatusChange(complaint=complaint, from_status=status, to_status=name, at=at, by=by, note=NOTES[name])
            )
            status = name
            if name == Status.RESOLVED:
                resolved_at = at
            elif name == Status.CLOSED:
                closed_at = at
            elif name == Status.REOPENED:
                resolved_at = closed_at = None
                deadline_at = calendar.deadline(at, complaint.urgency)
        complaint.status, complaint.satisfaction = status, rating
        complaint.resolved_at, complaint.closed_at, complaint.deadline_at = resolved_at, closed_at, deadline_at
        complaint.updated_at = now
    pks = [c.pk for c in fresh]
    StatusChange.objects.filter(complaint_id__in=pks, note=BULK_NOTE).delete()
    StatusChange.objects.bulk_create(changes, batch_size=5000)
    Complaint.objects.bulk_update(
        fresh, ["status", "satisfaction", "resolved_at", "closed_at", "deadline_at", "updated_at"], batch_size=500
    )
    # The units got the ticket at receipt; they are done with it when it is resolved or closed. The ids come as an
    # unnested array, so the plan is index probes per complaint even before the new rows have statistics.
    done = ", ".join(f"'{s}'" for s in DONE_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Assignment._meta.db_table} a
               SET created_at = c.received_at,
                   state = CASE WHEN c.status IN ({done}) THEN 'ended' ELSE 'active' END,
                   ended_at = CASE WHEN c.status IN ({done}) THEN COALESCE(c.closed_at, c.resolved_at) END
              FROM unnest(%s::bigint[]) AS ids(id) JOIN {Complaint._meta.db_table} c ON c.id = ids.id
             WHERE a.complaint_id = c.id AND a.state <> 'returned'
            """,
            [pks],
        )
    return len(fresh)
