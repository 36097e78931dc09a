from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from complaints import selectors
from complaints.constants import CRS_CHOICES, Channel, LocationSource, ReturnReason, Satisfaction, Urgency
from complaints.models import (
    Assignment,
    BulkImport,
    Complaint,
    JointCase,
    JointNote,
    JointParty,
    JointTask,
    RepeatLink,
    ReturnRequest,
    StatusChange,
)
from config.api import DateTimeField
from config.limits import limit


class ComplaintFeatureSerializer(GeoFeatureModelSerializer):
    """A complaint as a GeoJSON Feature (WGS-84); the id is the complaint's number."""

    location = GeometryField(precision=7, read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.path", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        geo_field = "location"
        id_field = "id"
        fields = (
            "id",
            "external_id",
            "received_at",
            "channel",
            "category",
            "category_name",
            "urgency",
            "status",
            "address",
            "district_code",
            "district_name",
            "street_code",
            "street_name",
            "lead_code",
            "lead_name",
            "deadline_at",
            "overdue",
            "needs_review",
            "satisfaction",
        )

    def get_overdue(self, complaint) -> bool:
        return selectors.is_overdue(complaint, self.context.get("now"))


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ("from_status", "to_status", "at", "by", "note")


class AssignmentSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Assignment
        fields = (
            "id",
            "role",
            "unit_name",
            "area_code",
            "area_level",
            "department",
            "state",
            "first_receiver",
            "created_at",
            "ended_at",
            "note",
        )


class ReturnRequestSerializer(serializers.ModelSerializer):
    complaint = serializers.IntegerField(source="complaint_id", read_only=True)
    unit_name = serializers.CharField(source="assignment.unit_name", read_only=True)

    class Meta:
        model = ReturnRequest
        fields = (
            "id",
            "complaint",
            "unit_name",
            "reason",
            "note",
            "suggested_code",
            "by",
            "created_at",
            "decision",
            "decided_by",
            "decided_at",
            "decision_note",
            "dispute_ref",
        )


class RepeatLinkSerializer(serializers.ModelSerializer):
    earlier = serializers.IntegerField(source="earlier_id")
    earlier_external_id = serializers.CharField(source="earlier.external_id")

    class Meta:
        model = RepeatLink
        fields = ("earlier", "earlier_external_id", "distance_m", "days_apart")


class ComplaintDetailSerializer(ComplaintFeatureSerializer):
    """A complaint with its verdict, history, assignments, returns (退单) and the earlier complaints it repeats."""

    verdict = serializers.SerializerMethodField(help_text="the jurisdiction verdict (same shape for bulk rows)")
    history = StatusChangeSerializer(many=True, read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)
    returns = ReturnRequestSerializer(many=True, read_only=True)
    repeats = RepeatLinkSerializer(source="repeat_links", many=True, read_only=True)

    class Meta(ComplaintFeatureSerializer.Meta):
        fields = (
            *ComplaintFeatureSerializer.Meta.fields,
            "description",
            "location_source",
            "input_crs",
            "input_lon",
            "input_lat",
            "accuracy_m",
            "confidence",
            "verdict_method",
            "generation_name",
            "resolved_at",
            "closed_at",
            "verdict",
            "history",
            "assignments",
            "returns",
            "repeats",
        )

    def get_verdict(self, complaint) -> dict:
        return selectors.complaint_verdict(complaint)


@extend_schema_field(OpenApiTypes.OBJECT)
class PointGeometryField(serializers.JSONField):
    """A GeoJSON Point {"type": "Point", "coordinates": [lon, lat]} in the system named by `crs`."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict) or data.get("type") != "Point":
            raise serializers.ValidationError('须为 GeoJSON 点 must be a GeoJSON {"type": "Point", ...}')
        coordinates = data.get("coordinates")
        if not isinstance(coordinates, list | tuple) or len(coordinates) < 2:
            raise serializers.ValidationError("coordinates 须为 [lon, lat] must be [lon, lat]")
        return coordinates[:2]


class CoordinateField(serializers.FloatField):
    """A longitude or latitude: a number, never true/false (which Python would read as 1/0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            raise serializers.ValidationError("须为数字 must be a number, not true/false", code="invalid_coordinates")
        return super().to_internal_value(data)


class ComplaintInputSerializer(serializers.Serializer):
    """A new complaint: a point (`geometry` or `lon`/`lat`, in `crs`) or only an `address` to geocode."""

    external_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    received_at = DateTimeField(required=False, help_text="default: now; without offset = Beijing time")
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    category = serializers.CharField(help_text="third-level catalogue code, e.g. 030102")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, help_text="default: the category's")
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limit("DESCRIPTION_CHARS")
    )
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    geometry = PointGeometryField(required=False)
    lon = CoordinateField(required=False)
    lat = CoordinateField(required=False)
    crs = serializers.ChoiceField(choices=CRS_CHOICES, default="wgs84")
    location_source = serializers.ChoiceField(choices=LocationSource.choices, required=False)
    accuracy_m = serializers.FloatField(required=False, min_value=0, max_value=5000)
    confidence = serializers.FloatField(required=False, min_value=0, max_value=1)
    reporter = serializers.DictField(required=False, default=dict)


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "in_progress", "resolved", "closed", "reopened"])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SatisfactionInputSerializer(serializers.Serializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    note = serializers.CharField(help_text="退单说明 why it is not yours")
    assignment = serializers.IntegerField(required=False, help_text="default: the current lead")
    suggested_code = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["redispatched", "rejected", "disputed"])
    to = serializers.CharField(required=False, help_text="area or department code (for redispatched)")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BulkImportSerializer(serializers.ModelSerializer):
    errors = serializers.SerializerMethodField(help_text="bad rows by number (first `errors_limit`)")

    class Meta:
        model = BulkImport
        fields = (
            "id",
            "source_name",
            "file_format",
            "crs",
            "batch_size",
            "state",
            "rows_read",
            "rows_created",
            "rows_existing",
            "rows_bad",
            "batches_done",
            "message",
            "started_at",
            "finished_at",
            "errors",
        )

    def get_errors(self, record) -> list[dict]:
        limit = self.context.get("errors_limit", 1000)
        return [
            {"row": e.row, "external_id": e.external_id, "errors": e.errors}
            for e in record.row_errors.order_by("row")[:limit]
        ]


# --- joint cases (吹哨 → 报到) -----------------------------------------------------------------------------------


class JointPartySerializer(serializers.ModelSerializer):
    late = serializers.BooleanField(read_only=True)

    class Meta:
        model = JointParty
        fields = ("id", "kind", "code", "name", "deadline_at", "checked_in_at", "checked_in_label", "late")


class JointNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = JointNote
        fields = ("id", "text", "by_label", "at")


class JointTaskSerializer(serializers.ModelSerializer):
    assignee = serializers.CharField(source="assignee.code", default=None, read_only=True)

    class Meta:
        model = JointTask
        fields = ("id", "text", "assignee", "done", "done_at", "done_by_label", "created_by_label", "created_at")


class JointCaseSerializer(serializers.ModelSerializer):
    """A joint case in a list: leads, summoned parties and who has not checked in yet (未报到)."""

    parties = JointPartySerializer(many=True, read_only=True)
    missing = serializers.SerializerMethodField(help_text="codes of the summoned parties not checked in yet")

    class Meta:
        model = JointCase
        fields = (
            "id",
            "title",
            "status",
            "lead_codes",
            "district_codes",
            "blown_by_label",
            "created_at",
            "closed_at",
            "parties",
            "missing",
            "complaint_ids",
            "refs",
        )

    def get_missing(self, case) -> list[str]:
        return [p.code for p in case.parties.all() if p.checked_in_at is None]


class JointCaseDetailSerializer(JointCaseSerializer):
    """One joint case with notes, tasks, the parties not checked in, and the linked complaints and disputes."""

    notes = JointNoteSerializer(many=True, read_only=True)
    tasks = JointTaskSerializer(many=True, read_only=True)
    not_checked_in = serializers.SerializerMethodField(help_text="parties not checked in, with their deadline")
    linked = serializers.SerializerMethodField(help_text="linked complaints and disputes, together")

    class Meta(JointCaseSerializer.Meta):
        fields = (
            *JointCaseSerializer.Meta.fields,
            "description",
            "closed_by_label",
            "close_note",
            "not_checked_in",
            "notes",
            "tasks",
            "linked",
        )

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "deadline_at": {"type": "string", "format": "date-time", "nullable": True},
                    "overdue": {"type": "boolean"},
                },
            },
        }
    )
    def get_not_checked_in(self, case) -> list[dict]:
        return selectors.joint_case_missing(case)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_linked(self, case) -> dict:
        return selectors.joint_case_links(case)


class WhistleInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    leads = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="area codes of the leads")
    summon = serializers.ListField(
        child=serializers.CharField(), min_length=1, help_text="department or street/district codes to summon"
    )
    complaints = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    disputes = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text='dispute ids or "dispute:<id>"'
    )
    check_in_hours = serializers.FloatField(required=False, default=24, min_value=0.1, max_value=720)


class CheckInInputSerializer(serializers.Serializer):
    party = serializers.CharField(help_text="the summoned party's code (department or street)")


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField()


class TaskInputSerializer(serializers.Serializer):
    text = serializers.CharField()
    assignee = serializers.CharField(required=False, allow_blank=True, default="")


class TaskUpdateSerializer(serializers.Serializer):
    done = serializers.BooleanField()


class CaseStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["closed"])
    note = serializers.CharField(required=False, allow_blank=True, default="")
