"""Complaints, categories, dispatch and deadlines (投诉、分类、派单、时限)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone

from .constants import (
    AssignmentRole,
    AssignmentState,
    Channel,
    ImportState,
    JointCaseStatus,
    LocationSource,
    PartyKind,
    ReturnDecision,
    ReturnReason,
    Satisfaction,
    Status,
    Urgency,
)
from .querysets import (
    AssignmentQuerySet,
    CalendarDayQuerySet,
    CategoryQuerySet,
    ComplaintQuerySet,
    JointCaseQuerySet,
    ReturnRequestQuerySet,
)


class Category(models.Model):
    """An item of the three-level complaint catalogue (诉求分类): 大类 › 中类 › 小类.

    Complaints are filed under third-level items. A leaf may name the department role that usually owns it
    (供水 → water_supply); dispatch then also sends the ticket to that department (双派). The code doubles as
    the Open311 service_code.
    """

    code = models.CharField(max_length=20, unique=True, help_text="01, 0101, 010101 …")
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True, help_text="English name; blank falls back to name")
    level = models.PositiveSmallIntegerField(choices=[(1, "大类"), (2, "中类"), (3, "小类")])
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    department_role = models.CharField(max_length=40, blank=True, help_text="Department.role that owns it")
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.GENERAL)
    description = models.TextField(blank=True)
    keywords = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def label(self, lang: str = "zh") -> str:
        """The name in `lang` ("en" or "zh"): the English name when asked for and present, else the Chinese."""
        if lang.lower().startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def path(self) -> str:
        """The full name, e.g. 公共服务 › 供水 › 管道爆裂 (parents must be loaded)."""
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))


class CalendarYear(models.Model):
    """A year whose holiday arrangement has been loaded, and where it was typed from."""

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(max_length=300, help_text="the notice the dates come from")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday working: a public holiday, or a weekend made a working day (调休上班).

    Days not listed follow the week: Monday–Friday work, Saturday and Sunday rest.
    """

    date = models.DateField(unique=True)
    is_workday = models.BooleanField(help_text="true: make-up working day; false: holiday")
    name = models.CharField(max_length=60, blank=True)

    objects = CalendarDayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休'} {self.name}"


class BulkImport(models.Model):
    """One run of a bulk file import; counts move batch by batch, in the same transaction as the batch."""

    source_name = models.CharField(max_length=300)
    file_format = models.CharField(max_length=20)
    crs = models.CharField(max_length=16, default="wgs84")
    batch_size = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=ImportState.choices, default=ImportState.RUNNING)
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0, help_text="external id already present: skipped")
    rows_bad = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Who runs it, and when it last reported: a running import whose process is gone (killed, crashed host) is
    # found by these and marked failed (bulk.imports_reap); a re-run of the file then completes it.
    host = models.CharField(max_length=255, blank=True, help_text="host name of the importing process")
    pid = models.PositiveIntegerField(null=True, blank=True, help_text="process id on that host")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last sign of life of a running import")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import {self.pk} {self.source_name}"

    def summary(self) -> str:
        return (
            f"读取 {self.rows_read} 行，新建 {self.rows_created}，已存在跳过 {self.rows_existing}，"
            f"错误 {self.rows_bad}；"
            f"read {self.rows_read}, created {self.rows_created}, existing {self.rows_existing}, bad {self.rows_bad}"
        )


class BulkRowError(models.Model):
    """A row of a bulk file that was not imported, with its 1-based row number and what was wrong."""

    bulk_import = models.ForeignKey(BulkImport, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(help_text="1-based data row (the header is not counted)")
    external_id = models.CharField(max_length=64, blank=True)
    errors = models.JSONField(help_text="field → message")

    class Meta:
        ordering = ["bulk_import", "row"]


class Complaint(models.Model):
    """A citizen complaint (诉求) with its place, its verdict (who must handle it) and its state.

    The verdict is stored whole as the engine returned it, and the codes it names are copied into columns so
    lists filter and count without unpacking JSON.
    """

    external_id = models.CharField(max_length=64, help_text="ticket id of the source system (unique)")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    received_at = models.DateTimeField()
    # Indexed by (category, received_at) below, which also serves lookups by category alone.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="complaints", db_index=False)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.GENERAL)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    location = models.PointField(srid=4326)
    location_source = models.CharField(max_length=16, choices=LocationSource.choices, default=LocationSource.GPS)
    input_crs = models.CharField(max_length=16, default="wgs84")
    input_lon = models.FloatField(null=True, blank=True, help_text="longitude as given, in input_crs")
    input_lat = models.FloatField(null=True, blank=True, help_text="latitude as given, in input_crs")
    accuracy_m = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True, help_text="0–1: how sure the location is")
    verdict = models.JSONField(default=dict, blank=True)
    verdict_method = models.CharField(max_length=16, blank=True)
    generation_name = models.CharField(max_length=100, blank=True)
    district_code = models.CharField(max_length=20, blank=True)
    district_name = models.CharField(max_length=100, blank=True)
    street_code = models.CharField(max_length=20, blank=True)
    street_name = models.CharField(max_length=100, blank=True)
    lead_code = models.CharField(max_length=40, blank=True, help_text="area code of the unit that leads")
    lead_name = models.CharField(max_length=100, blank=True)
    needs_review = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    deadline_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.CharField(max_length=16, choices=Satisfaction.choices, blank=True)
    reporter = models.JSONField(default=dict, blank=True, help_text="contact details as given (name, phone …)")
    # A database default too: bulk intake inserts rows with its own column list, which does not name this one.
    media_url = models.URLField(
        max_length=1000, blank=True, default="", db_default="", help_text="a photo or file of the problem (Open311)"
    )
    repeats = models.ManyToManyField("self", through="RepeatLink", symmetrical=False, related_name="repeated_by")
    # Provenance only: no index and no database constraint, so a bulk batch does not pay a check per row.
    bulk_import = models.ForeignKey(
        BulkImport, null=True, blank=True, on_delete=models.SET_NULL, db_index=False, db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        # Plain b-tree indexes declared here (not db_index) so PostgreSQL gets no extra LIKE-pattern copies: every
        # index is paid for on each of a million bulk rows.
        indexes = [
            models.Index(fields=["category", "received_at"], name="complaint_category_time"),
            models.Index(fields=["received_at"], name="complaint_received"),
            models.Index(fields=["status"], name="complaint_status"),
            models.Index(fields=["street_code"], name="complaint_street"),
            models.Index(fields=["district_code"], name="complaint_district"),
            models.Index(fields=["deadline_at"], name="complaint_deadline"),
            # Tile ETags read max(updated_at): without this each tile would scan the table.
            models.Index(fields=["updated_at"], name="complaint_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="complaint_external_id_unique"),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=0, confidence__lte=1),
                name="complaint_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.category_id}"


class StatusChange(models.Model):
    """One step of a complaint's history (办理记录); rows are only ever added."""

    # Written only with their complaint, in the same transaction (services, bulk batches). The deferred per-row
    # foreign key check cost a bulk batch about a third of its time, so the link is kept by the code and by
    # Django's cascade, not by a database constraint.
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="history", db_constraint=False)
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.CharField(max_length=150, blank=True, help_text="user or office; empty for the system")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["complaint", "at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status or '∅'} → {self.to_status}"


class Assignment(models.Model):
    """A unit holding a complaint: the lead street office (主办), a co-handler's copy (协办), or a department (双派).

    Areas are named by code, like rules, so an assignment outlives a boundary generation.
    """

    # No database constraint, for the same reason as StatusChange.complaint.
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="assignments", db_constraint=False)
    role = models.CharField(max_length=16, choices=AssignmentRole.choices)
    area_code = models.CharField(max_length=20, blank=True)
    area_level = models.CharField(max_length=16, blank=True)
    department = models.ForeignKey(
        "jurisdictions.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    unit_name = models.CharField(max_length=100)
    state = models.CharField(max_length=16, choices=AssignmentState.choices, default=AssignmentState.ACTIVE)
    first_receiver = models.BooleanField(default=False, help_text="首接负责: the first unit to receive it leads")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["complaint", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(area_code="") | models.Q(department__isnull=False),
                name="assignment_has_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.unit_name} ({self.role})"


class ReturnRequest(models.Model):
    """A return (退单): a unit says the ticket is not theirs, with a reason code and a note; a reviewer decides.

    Ends in re-dispatch, in rejection (the unit keeps it), or in a boundary dispute (`dispute_ref`).
    """

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="returns")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(max_length=32, choices=ReturnReason.choices)
    note = models.TextField()
    suggested_code = models.CharField(max_length=20, blank=True, help_text="the area the unit says it belongs to")
    by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=16, choices=ReturnDecision.choices, default=ReturnDecision.PENDING)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    dispute_ref = models.CharField(max_length=100, blank=True, help_text="the dispute it became, e.g. dispute:7")

    objects = ReturnRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"return {self.pk} of {self.complaint_id} ({self.decision})"


class RepeatLink(models.Model):
    """A complaint repeating an earlier one: same category, close by, soon after (重复诉求)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="repeat_links")
    earlier = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="later_links")
    distance_m = models.FloatField()
    days_apart = models.FloatField()

    class Meta:
        ordering = ["complaint", "distance_m"]
        constraints = [models.UniqueConstraint(fields=["complaint", "earlier"], name="repeat_link_once")]


class JointCase(models.Model):
    """A joint case (吹哨 → 报到): a street or district blows the whistle and summons departments and streets.

    Leads are area codes; a cross-district case has one id and several leads (one per district at least).
    Linked complaints are kept by id and disputes by reference ("dispute:<id>"), so the case shows them together.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=JointCaseStatus.choices, default=JointCaseStatus.OPEN)
    lead_codes = models.JSONField(default=list, help_text="area codes of the leads (主办), several when cross-district")
    district_codes = models.JSONField(default=list, help_text="districts of the leads (six-digit codes)")
    complaint_ids = models.JSONField(default=list, blank=True, help_text="linked complaints (ids)")
    refs = models.JSONField(default=list, blank=True, help_text='linked disputes ("dispute:<id>") and other refs')
    blown_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="joint_cases_blown"
    )
    blown_by_label = models.CharField(max_length=150, blank=True, help_text="user name, or empty for the system")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_label = models.CharField(max_length=150, blank=True)
    close_note = models.TextField(blank=True)

    objects = JointCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"joint case {self.pk} {self.title}"


class JointParty(models.Model):
    """A party summoned to a joint case: a department or a street office, with its check-in (签到) deadline."""

    case = models.ForeignKey(JointCase, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(max_length=16, choices=PartyKind.choices)
    code = models.CharField(max_length=40, help_text="department code or area code")
    name = models.CharField(max_length=100)
    deadline_at = models.DateTimeField(help_text="check in before this time")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_in_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["case", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="joint_party_once")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.name}"

    @property
    def late(self) -> bool:
        """Checked in after the deadline."""
        return self.checked_in_at is not None and self.checked_in_at > self.deadline_at


class JointNote(models.Model):
    """A note on a joint case (办理记录), by a lead or a summoned party; rows are only added."""

    case = models.ForeignKey(JointCase, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.text[:30]}"


class JointTask(models.Model):
    """A task of a joint case, optionally assigned to one summoned party, done or not (任务分工)."""

    case = models.ForeignKey(JointCase, on_delete=models.CASCADE, related_name="tasks")
    text = models.TextField()
    assignee = models.ForeignKey(JointParty, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by_label = models.CharField(max_length=150, blank=True)
    created_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.text[:30]}"


class ComplaintCell(models.Model):
    """Complaints received in one map hexagon over one day, month or year, per zoom (see complaints/cells.py)."""

    zoom = models.PositiveSmallIntegerField()
    period = models.PositiveSmallIntegerField(help_text="0 day, 1 month, 2 year")
    i = models.IntegerField()
    j = models.IntegerField()
    day = models.DateField(help_text="the day, or the first day of the month or year")
    n = models.IntegerField()

    class Meta:
        constraints = [
            # Also the read path: a tile reads, per period, its hexagons' (i, j) and a range of days, and n, from
            # this index alone.
            models.UniqueConstraint(
                fields=["zoom", "period", "i", "j", "day"], include=["n"], name="complaint_cell_key"
            ),
        ]


class ComplaintCellChange(models.Model):
    """A complaint counted in (+1) or out (−1) of the hexagon counts, written by triggers, folded by cells_fold."""

    location = models.PointField(srid=4326, spatial_index=False)
    received_at = models.DateTimeField()
    sign = models.SmallIntegerField()
