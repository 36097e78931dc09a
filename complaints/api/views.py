"""Native complaint API and joint cases (吹哨 → 报到).

Every endpoint but the catalogue needs a logged-in user or an API token (anonymous → 401). Reads show only what
the user's scope may read (`ComplaintQuerySet.readable_by`, `JointCaseQuerySet.visible_to`; see docs/security.md).
Writes call services with the user as `by`; the services check the user's scope and refuse with a reason (→ 403).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import bulk, permissions, selectors, services
from complaints.constants import JointCaseStatus, Status
from complaints.models import JointTask, ReturnRequest
from config import params
from config.api import ApiError, FeaturePagination, JSONParser
from config.export import ExportMixin
from config.limits import limit
from jurisdictions.constants import Role
from jurisdictions.permissions import require, scope_for

from .serializers import (
    BulkImportSerializer,
    CaseStatusInputSerializer,
    CheckInInputSerializer,
    ComplaintDetailSerializer,
    ComplaintFeatureSerializer,
    ComplaintInputSerializer,
    JointCaseDetailSerializer,
    JointCaseSerializer,
    JointNoteSerializer,
    JointPartySerializer,
    JointTaskSerializer,
    NoteInputSerializer,
    ReturnDecisionInputSerializer,
    ReturnInputSerializer,
    ReturnRequestSerializer,
    SatisfactionInputSerializer,
    StatusInputSerializer,
    TaskInputSerializer,
    TaskUpdateSerializer,
    WhistleInputSerializer,
)


def _service_error(exc: services.ComplaintError) -> ApiError:
    return ApiError(exc.code, exc.message, exc.details, exc.status_code)


def _user(request):
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class ComplaintPagination(FeaturePagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


LIST_PARAMETERS = [
    params.BBOX_PARAMETER,
    params.FROM_PARAMETER,
    params.TO_PARAMETER,
    OpenApiParameter("category", OpenApiTypes.STR, description="分类编码（任意级）category code, any level"),
    OpenApiParameter("status", OpenApiTypes.STR, description="状态，逗号分隔 statuses, comma-separated"),
    OpenApiParameter("street", OpenApiTypes.STR, description="街道编码 street code"),
    OpenApiParameter("district", OpenApiTypes.STR, description="区编码 district code"),
    params.boolean_parameter("overdue", "超期 only late (true) or not late (false)"),
    *params.deprecated_parameters("received_from", "received_to"),
]


class ComplaintListView(ExportMixin, ListAPIView):
    """诉求 Complaints: list as a paginated GeoJSON FeatureCollection (`?format=gpkg|fgb|csv|geojson`: every matching
    complaint as one file), or take a new one in."""

    permission_classes = [IsAuthenticated]
    export_name = "complaints"
    export_private = True

    serializer_class = ComplaintFeatureSerializer
    pagination_class = ComplaintPagination
    parser_classes = [JSONParser]

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self):
        query = params.Query(self.request)
        statuses = [s for s in (query.params.get("status") or "").split(",") if s]
        unknown = [s for s in statuses if s not in Status.values]
        if unknown:
            raise ApiError(
                "invalid_status", f"状态无效 unknown status; use {', '.join(Status.values)}", {"status": unknown}
            )
        received_from, received_to = query.moment_range(from_aliases=["received_from"], to_aliases=["received_to"])
        return selectors.complaint_list(
            scope=scope_for(self.request.user),
            bbox=query.bbox(),
            received_from=received_from,
            received_to=received_to,
            category=query.params.get("category") or None,
            status=statuses or None,
            street=query.params.get("street") or None,
            district=query.params.get("district") or None,
            overdue=query.boolean("overdue"),
        )

    @extend_schema(request=ComplaintInputSerializer, responses={201: ComplaintDetailSerializer})
    def post(self, request):
        """Take a complaint in; the same external_id again returns the stored one with 200.

        A replay answers the stored complaint's full detail only to a caller who may read it; anyone else gets its
        id, external id and status (enough to stay idempotent, nothing of its content)."""
        data = ComplaintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        geometry = values.pop("geometry", None)
        if geometry is not None:
            values["lon"], values["lat"] = geometry
        try:
            result = services.complaint_intake(data=services.IntakeData(**values), by=_user(request))
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        complaint = selectors.complaint_get(pk=result.complaint.pk)
        code = http.HTTP_201_CREATED if result.created else http.HTTP_200_OK
        if result.created or permissions.may_read_complaint(scope_for(request.user), complaint):
            body = ComplaintDetailSerializer(complaint, context={"now": timezone.now()}).data
        else:
            body = {"id": complaint.pk, "external_id": complaint.external_id, "status": complaint.status}
        return Response(body, status=code, headers={"Location": f"/api/v1/complaints/{complaint.pk}"})


def _complaint_or_404(pk: int):
    complaint = selectors.complaint_get(pk=pk)
    if complaint is None:
        raise ApiError("not_found", f"没有编号为 {pk} 的诉求 no complaint {pk}", {"id": pk}, 404)
    return complaint


class ComplaintDetailView(APIView):
    """单个诉求 One complaint with its verdict, history, assignments, returns and repeats."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ComplaintDetailSerializer})
    def get(self, request, pk: int):
        complaint = _complaint_or_404(pk)
        scope = scope_for(request.user)
        require(
            permissions.may_read_complaint(scope, complaint),
            scope,
            "诉求不在你的辖区 the complaint is outside your scope",
            complaint=complaint.pk,
        )
        return Response(ComplaintDetailSerializer(complaint, context={"now": timezone.now()}).data)


class ComplaintStatusView(APIView):
    """办理状态 Move a complaint along its lifecycle (签收、办理中、办结、结案、重新办理)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=StatusInputSerializer, responses={200: ComplaintDetailSerializer})
    def post(self, request, pk: int):
        complaint = _complaint_or_404(pk)
        data = StatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.complaint_transition(
                complaint=complaint,
                to=data.validated_data["status"],
                by=_user(request),
                note=data.validated_data["note"],
            )
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(ComplaintDetailSerializer(_complaint_or_404(pk), context={"now": timezone.now()}).data)


class ComplaintSatisfactionView(APIView):
    """满意度 The caller's rating of a resolved complaint."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SatisfactionInputSerializer, responses={200: ComplaintDetailSerializer})
    def post(self, request, pk: int):
        complaint = _complaint_or_404(pk)
        data = SatisfactionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.complaint_rate(
                complaint=complaint, satisfaction=data.validated_data["satisfaction"], by=_user(request)
            )
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(ComplaintDetailSerializer(_complaint_or_404(pk), context={"now": timezone.now()}).data)


class ComplaintReturnsView(APIView):
    """退单 A unit returns a complaint with a reason code and a note; it joins the review queue."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReturnInputSerializer, responses={201: ReturnRequestSerializer})
    def post(self, request, pk: int):
        complaint = _complaint_or_404(pk)
        data = ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        assignment = None
        if values.get("assignment"):
            assignment = complaint.assignments.filter(pk=values["assignment"]).first()
            if assignment is None:
                raise ApiError("not_found", "没有该派单 no such assignment", {"assignment": values["assignment"]}, 404)
        try:
            request_row = services.complaint_return(
                complaint=complaint,
                reason=values["reason"],
                note=values["note"],
                assignment=assignment,
                suggested_code=values["suggested_code"],
                by=_user(request),
            )
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(ReturnRequestSerializer(request_row).data, status=http.HTTP_201_CREATED)


class ReturnQueueView(ListAPIView):
    """退单审核队列 Returns waiting for review (or all with decision=all), as far as your scope reaches."""

    permission_classes = [IsAuthenticated]

    serializer_class = ReturnRequestSerializer

    @extend_schema(
        parameters=[OpenApiParameter("decision", OpenApiTypes.STR, description="pending (default) | … | all")]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        decision = self.request.query_params.get("decision") or "pending"
        return selectors.return_queue(
            decision=None if decision == "all" else decision, scope=scope_for(self.request.user)
        )


class ReturnDecisionView(APIView):
    """退单审核 Decide a return: re-dispatch to another unit, reject it, or turn it into a boundary dispute."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReturnDecisionInputSerializer, responses={200: ReturnRequestSerializer})
    def post(self, request, pk: int):
        row = ReturnRequest.objects.filter(pk=pk).first()
        if row is None:
            raise ApiError("not_found", f"没有编号为 {pk} 的退单 no return {pk}", {"id": pk}, 404)
        data = ReturnDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        by = _user(request)
        try:
            if values["decision"] == "redispatched":
                if not values.get("to"):
                    raise ApiError("to_required", "改派须指定单位 give `to`: an area or department code", {})
                services.return_redispatch(return_request=row, to_code=values["to"], by=by, note=values["note"])
            elif values["decision"] == "rejected":
                services.return_reject(return_request=row, by=by, note=values["note"])
            else:
                services.return_dispute(return_request=row, by=by, note=values["note"])
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        row.refresh_from_db()
        return Response(ReturnRequestSerializer(row).data)


class CategoryTreeView(APIView):
    """诉求分类目录 The three-level complaint catalogue."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"categories": selectors.category_tree()})


class BulkImportListView(APIView):
    """批量导入 Upload a CSV / GeoJSON / GeoPackage file; it is imported batch by batch before the reply."""

    permission_classes = [IsAuthenticated]
    # The stricter `batch` rate limit on top of the user one (config/throttling.py).
    throttle_scope = "batch"

    parser_classes = [MultiPartParser, FormParser]
    # The error middleware refuses larger uploads before the view runs (config/errors.py).
    body_limit = "UPLOAD_BYTES"

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09", "cgcs2000"]},
                    "batch_size": {"type": "integer"},
                },
            }
        },
        responses={201: BulkImportSerializer},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("file_required", "请上传文件 upload a file in the `file` field", {})
        suffix = Path(upload.name).suffix.lower()
        if suffix not in bulk.FORMATS:
            raise ApiError(
                "unsupported_format", "不支持的文件类型 use .csv, .geojson or .gpkg", {"file": upload.name}, 415
            )
        max_batch = limit("IMPORT_BATCH_ROWS")
        invalid = ApiError(
            "invalid_batch_size",
            f"batch_size 须为 1–{max_batch} 的整数 must be an integer in 1–{max_batch}",
            {"batch_size": request.data.get("batch_size"), "max": max_batch},
        )
        try:
            batch_size = int(request.data.get("batch_size") or bulk.DEFAULT_BATCH)
        except ValueError:
            raise invalid from None
        if not 1 <= batch_size <= max_batch:
            raise invalid
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            try:
                record = bulk.complaints_import(
                    source=path,
                    crs=request.data.get("crs") or "wgs84",
                    batch_size=batch_size,
                    by=_user(request),
                    source_name=upload.name,
                )
            except bulk.BulkImportError as exc:
                raise ApiError("import_failed", str(exc), {"file": upload.name}, 400) from exc
        return Response(
            BulkImportSerializer(record).data,
            status=http.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/complaint-imports/{record.pk}"},
        )


class BulkImportDetailView(APIView):
    """一次批量导入 One import: counts and the row-numbered error report (its importer, api clients, city roles)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("errors_limit", OpenApiTypes.INT, description="default 1000")],
        responses={200: BulkImportSerializer},
    )
    def get(self, request, pk: int):
        bulk.imports_reap()  # an import whose process is gone reads as failed, not running forever
        record = selectors.bulk_import_get(pk=pk)
        if record is None:
            raise ApiError("not_found", f"没有编号为 {pk} 的导入 no import {pk}", {"id": pk}, 404)
        scope = scope_for(request.user)
        require(
            scope.city_wide or scope.role == Role.API_CLIENT or record.by == scope.username,
            scope,
            "只能查看自己的导入 you may only read your own imports",
            bulk_import=pk,
        )
        max_errors = limit("ERRORS_LIMIT")
        raw = request.query_params.get("errors_limit")
        try:
            errors_limit = max(0, int(raw or 1000))
        except ValueError:
            raise ApiError("invalid_errors_limit", "errors_limit 须为整数 must be an integer", {}) from None
        if errors_limit > max_errors:
            raise ApiError(
                "invalid_errors_limit",
                f"errors_limit 最大为 {max_errors} must be at most {max_errors}",
                {"errors_limit": raw, "max": max_errors},
            )
        return Response(BulkImportSerializer(record, context={"errors_limit": errors_limit}).data)


# --- joint cases (街乡吹哨、部门报到) ----------------------------------------------------------------------------


def _case_or_404(pk: int, request):
    """The case, if the user takes part in it (403 otherwise: lead, summoned party or city-wide role)."""
    case = selectors.joint_case_get(pk=pk)
    if case is None:
        raise ApiError("not_found", f"没有编号为 {pk} 的联合办案 no joint case {pk}", {"id": pk}, 404)
    scope = scope_for(request.user)
    require(
        permissions.may_read_case(scope, case),
        scope,
        "你不是该联合办案的牵头或被召集单位 you neither lead nor were summoned to this joint case",
        lead_codes=case.lead_codes,
    )
    return case


def _case_body(pk: int) -> dict:
    return JointCaseDetailSerializer(selectors.joint_case_get(pk=pk)).data


class JointCaseListView(ListAPIView):
    """联合办案 Joint cases (吹哨 → 报到): the ones you lead or were summoned to; POST blows the whistle."""

    permission_classes = [IsAuthenticated]
    serializer_class = JointCaseSerializer
    parser_classes = [JSONParser]

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, description="open | closed")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status") or None
        if status is not None and status not in JointCaseStatus.values:
            raise ApiError("invalid_status", "status 须为 open 或 closed", {"status": status})
        return selectors.joint_case_list(scope=scope_for(self.request.user), status=status)

    @extend_schema(request=WhistleInputSerializer, responses={201: JointCaseDetailSerializer})
    def post(self, request):
        """吹哨 Open a joint case: leads (area codes), parties to summon, linked complaints and disputes."""
        data = WhistleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            case = services.whistle_blow(
                by=request.user,
                title=values["title"],
                description=values["description"],
                leads=values["leads"],
                summon=values["summon"],
                complaints=values["complaints"],
                disputes=values["disputes"],
                check_in_hours=values["check_in_hours"],
            )
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(
            _case_body(case.pk), status=http.HTTP_201_CREATED, headers={"Location": f"/api/v1/joint-cases/{case.pk}"}
        )


class JointCaseDetailView(APIView):
    """一个联合办案 One joint case: parties and check-ins, who has not come, notes, tasks, linked complaints and
    disputes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: JointCaseDetailSerializer})
    def get(self, request, pk: int):
        _case_or_404(pk, request)
        return Response(_case_body(pk))


class JointCaseCheckInView(APIView):
    """报到 签到 A summoned party checks in (its department's or street's staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CheckInInputSerializer, responses={201: JointPartySerializer})
    def post(self, request, pk: int):
        case = _case_or_404(pk, request)
        data = CheckInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            party = services.check_in(case=case, by=request.user, party=data.validated_data["party"])
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(JointPartySerializer(party).data, status=http.HTTP_201_CREATED)


class JointCaseNotesView(APIView):
    """办理记录 Add a note to a joint case (leads and summoned parties)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=NoteInputSerializer, responses={201: JointNoteSerializer})
    def post(self, request, pk: int):
        case = _case_or_404(pk, request)
        data = NoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            note = services.case_note_add(case=case, by=request.user, text=data.validated_data["text"])
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(JointNoteSerializer(note).data, status=http.HTTP_201_CREATED)


class JointCaseTasksView(APIView):
    """任务 Add a task to a joint case, optionally for one summoned party (leads)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskInputSerializer, responses={201: JointTaskSerializer})
    def post(self, request, pk: int):
        case = _case_or_404(pk, request)
        data = TaskInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            task = services.case_task_add(case=case, by=request.user, **data.validated_data)
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(JointTaskSerializer(task).data, status=http.HTTP_201_CREATED)


class JointCaseTaskView(APIView):
    """一项任务 Mark a task done (the assigned party or a lead)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskUpdateSerializer, responses={200: JointTaskSerializer})
    def patch(self, request, pk: int, task_id: int):
        case = _case_or_404(pk, request)
        task = JointTask.objects.filter(case=case, pk=task_id).first()
        if task is None:
            raise ApiError("not_found", f"没有编号为 {task_id} 的任务 no task {task_id}", {"task": task_id}, 404)
        data = TaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["done"]:
            raise ApiError("invalid_done", "任务只能标记为完成 a task can only be marked done", {})
        try:
            task = services.case_task_complete(task=task, by=request.user)
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(JointTaskSerializer(task).data)


class JointCaseStatusView(APIView):
    """结案 Close a joint case (leads or an administrator)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CaseStatusInputSerializer, responses={200: JointCaseDetailSerializer})
    def post(self, request, pk: int):
        case = _case_or_404(pk, request)
        data = CaseStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.case_close(case=case, by=request.user, note=data.validated_data["note"])
        except services.ComplaintError as exc:
            raise _service_error(exc) from exc
        return Response(_case_body(pk))
