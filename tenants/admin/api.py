"""The admin API (``/api/admin/``): what staff automate. Staff only, by session or token."""

import uuid

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import selectors, services
from tenants.access import signed_in_user
from tenants.logs.query import DEFAULT_LINES, LEVELS, MAX_LINES, SINCE_HELP, BadLogQuery, parse_log_query
from tenants.logs.reader import tenant_log_tail
from tenants.message_pages import PAGE_PARAMETERS, message_page_response
from tenants.models import SetupRequest, Tenant, WorkerEvent, WorkerProcess, seconds_since
from workers import orchestration, suspension

ERRORS = {
    401: OpenApiResponse(description="not signed in (session) and no valid token"),
    403: OpenApiResponse(description="not a staff user"),
}
NOT_FOUND = {404: OpenApiResponse(description="no such tenant")}
BAD_REQUEST = {400: OpenApiResponse(description="invalid input; the detail says which field and why")}
SETUP_REQUESTS_LISTED = 500  # every tenant's, newest first


class StaffAPIView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]

    @staticmethod
    def get_tenant(tenant_id: uuid.UUID) -> Tenant:
        return get_object_or_404(Tenant.objects.select_related("worker", "session"), pk=tenant_id)


class AdminTenantOut(serializers.ModelSerializer):
    worker_status = serializers.CharField(source="worker.status")
    session_state = serializers.CharField(source="session.state")
    heartbeat_age_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "status",
            "worker_status",
            "session_state",
            "heartbeat_age_seconds",
            "created_at",
            "updated_at",
        ]

    def get_heartbeat_age_seconds(self, tenant: Tenant) -> int | None:
        return seconds_since(tenant.session.last_seen_at, timezone.now())


class TenantIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class TenantUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    status = serializers.ChoiceField(
        choices=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED],
        required=False,
        help_text="SUSPENDED stops the worker and sends and holds the queue; ACTIVE switches it back on",
    )
    release_held = serializers.BooleanField(
        required=False,
        default=False,
        help_text="with status ACTIVE: queue the messages held while suspended again (default: keep held)",
    )


class WorkerViewOut(serializers.Serializer):
    tenant_id = serializers.CharField()
    process_name = serializers.CharField()
    status = serializers.CharField()
    host = serializers.CharField()
    pid = serializers.IntegerField(allow_null=True)
    heartbeat_age_seconds = serializers.IntegerField(allow_null=True)
    supervisor_state = serializers.CharField(allow_null=True)
    supervisor_pid = serializers.IntegerField(allow_null=True)
    supervisor_uptime_seconds = serializers.IntegerField(allow_null=True)
    supervisor_error = serializers.CharField()
    disagreement = serializers.CharField()


def worker_view_data(view: orchestration.WorkerView) -> dict:
    info = view.supervisor
    return {
        "tenant_id": view.tenant_id,
        "process_name": view.process_name,
        "status": view.status,
        "host": view.host,
        "pid": view.pid,
        "heartbeat_age_seconds": view.heartbeat_age_seconds,
        "supervisor_state": info.state if info else None,
        "supervisor_pid": info.pid if info else None,
        "supervisor_uptime_seconds": info.uptime_seconds if info else None,
        "supervisor_error": view.supervisor_error,
        "disagreement": view.disagreement,
    }


class TimelineEventOut(serializers.ModelSerializer):
    class Meta:
        model = WorkerEvent
        fields = ["id", "kind", "old_value", "new_value", "reason", "created_at"]


class AdminSetupRequestOut(serializers.ModelSerializer):
    tenant_id = serializers.UUIDField()
    user_email = serializers.EmailField(source="user.email")

    class Meta:
        model = SetupRequest
        fields = ["id", "tenant_id", "user_email", "status", "notes", "created_at", "decided_at"]


# --- tenants -------------------------------------------------------------------------------


class TenantsView(StaffAPIView):
    @extend_schema(
        summary="List tenants",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=Tenant.Status.values)],
        responses={
            200: AdminTenantOut(many=True),
            400: OpenApiResponse(description="unknown status"),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        tenants = Tenant.objects.select_related("worker", "session").order_by("name")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in Tenant.Status.values:
                return Response({"detail": f"status: one of {', '.join(Tenant.Status.values)}"}, status=400)
            tenants = tenants.filter(status=wanted)
        return Response(AdminTenantOut(tenants[:1000], many=True).data)

    @extend_schema(
        summary="Create a tenant (with its worker and session)",
        request=TenantIn,
        responses={201: AdminTenantOut, **BAD_REQUEST, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = TenantIn(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_create(name=data.validated_data["name"])
        return Response(AdminTenantOut(self.get_tenant(tenant.id)).data, status=status.HTTP_201_CREATED)


class TenantDetailView(StaffAPIView):
    @extend_schema(summary="A tenant", responses={200: AdminTenantOut, **NOT_FOUND, **ERRORS})
    def get(self, request: Request, tenant_id: uuid.UUID) -> Response:
        return Response(AdminTenantOut(self.get_tenant(tenant_id)).data)

    @extend_schema(
        summary="Rename, suspend or reactivate a tenant",
        request=TenantUpdateIn,
        responses={200: AdminTenantOut, **NOT_FOUND, **BAD_REQUEST, **ERRORS},
    )
    def patch(self, request: Request, tenant_id: uuid.UUID) -> Response:
        tenant = self.get_tenant(tenant_id)
        data = TenantUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            tenant.name = data.validated_data["name"]
            tenant.full_clean()
            tenant.save(update_fields=["name", "updated_at"])
        wanted = data.validated_data.get("status")
        if wanted == Tenant.Status.SUSPENDED and tenant.status != wanted:
            suspension.tenant_suspend(tenant=tenant, by=signed_in_user(request).email)
        elif wanted == Tenant.Status.ACTIVE and tenant.status != wanted:
            suspension.tenant_reactivate(
                tenant=tenant,
                by=signed_in_user(request).email,
                release_held=data.validated_data["release_held"],
            )
        return Response(AdminTenantOut(self.get_tenant(tenant_id)).data)


class WorkerActionView(StaffAPIView):
    @extend_schema(
        summary="Start, stop or restart a tenant's worker",
        request=None,
        responses={
            200: WorkerViewOut,
            409: OpenApiResponse(description="refused (e.g. the tenant is suspended)"),
            503: OpenApiResponse(description="supervisord cannot be reached (named in the detail)"),
            **NOT_FOUND,
            **ERRORS,
        },
    )
    def post(self, request: Request, tenant_id: uuid.UUID, action: str) -> Response:
        tenant = self.get_tenant(tenant_id)
        try:
            view = orchestration.worker_action(tenant=tenant, action=action, by=signed_in_user(request).email)
        except orchestration.OrchestrationError as exc:
            code = (
                status.HTTP_503_SERVICE_UNAVAILABLE
                if isinstance(exc, orchestration.WorkerHostsUnreachable)
                else status.HTTP_409_CONFLICT
            )
            return Response({"detail": str(exc)}, status=code)
        return Response(worker_view_data(view))


class WorkersView(StaffAPIView):
    @extend_schema(
        summary="Every worker: status, heartbeat age, supervisord's state, host",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=WorkerProcess.Status.values)],
        responses={200: WorkerViewOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        workers = WorkerProcess.objects.select_related("tenant__session").order_by("process_name")
        if request.query_params.get("status"):
            workers = workers.filter(status=request.query_params["status"])
        programs, errors = orchestration.supervisor_programs()
        return Response(
            [worker_view_data(orchestration.worker_view(w, programs, errors)) for w in workers[:1000]]
        )


class TenantMessagesView(StaffAPIView):
    @extend_schema(
        summary="A tenant's message log, newest first (keyset pagination)",
        parameters=PAGE_PARAMETERS,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="bad limit, cursor or filter"),
            **NOT_FOUND,
            **ERRORS,
        },
    )
    def get(self, request: Request, tenant_id: uuid.UUID) -> Response:
        return message_page_response(request, self.get_tenant(tenant_id))


class TenantLogFileView(StaffAPIView):
    @extend_schema(
        summary="The tenant's log file: its last lines, parsed, read from the end",
        parameters=[
            OpenApiParameter(
                "lines", OpenApiTypes.INT, description=f"1 to {MAX_LINES} (default {DEFAULT_LINES})"
            ),
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(LEVELS)),
            OpenApiParameter(
                "since", OpenApiTypes.STR, description=SINCE_HELP
            ),
            OpenApiParameter("q", OpenApiTypes.STR, description="text the line must contain"),
        ],
        responses={
            200: inline_serializer(
                "LogLines", {"lines": serializers.ListField(child=serializers.DictField())}
            ),
            400: OpenApiResponse(description="bad lines, level or since"),
            **NOT_FOUND,
            **ERRORS,
        },
    )
    def get(self, request: Request, tenant_id: uuid.UUID) -> Response:
        tenant = self.get_tenant(tenant_id)
        params = request.query_params
        try:
            query = parse_log_query(
                now=timezone.now(),
                lines=params.get("lines"),
                level=params.get("level"),
                since=params.get("since"),
                grep=params.get("q"),
            )
        except BadLogQuery as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response({"lines": tenant_log_tail(tenant_id=tenant.id, query=query).records})


class TenantTimelineView(StaffAPIView):
    @extend_schema(
        summary="The tenant's timeline (worker events), newest first",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT)],
        responses={200: TimelineEventOut(many=True), **NOT_FOUND, **BAD_REQUEST, **ERRORS},
    )
    def get(self, request: Request, tenant_id: uuid.UUID) -> Response:
        tenant = self.get_tenant(tenant_id)
        limit = selectors.parse_limit(request.query_params.get("limit"))
        return Response(
            TimelineEventOut(selectors.tenant_timeline(tenant=tenant, limit=limit), many=True).data
        )


class SetupRequestsView(StaffAPIView):
    @extend_schema(
        summary="Setup requests",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=SetupRequest.Status.values)],
        responses={200: AdminSetupRequestOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status", "")
        requests = selectors.setup_requests(status=wanted, limit=SETUP_REQUESTS_LISTED)
        return Response(AdminSetupRequestOut(requests, many=True).data)


class SetupRequestDecisionView(StaffAPIView):
    @extend_schema(
        summary="Approve or reject a setup request",
        request=inline_serializer(
            "Decision", {"notes": serializers.CharField(required=False, allow_blank=True)}
        ),
        responses={
            200: AdminSetupRequestOut,
            404: OpenApiResponse(description="no such request"),
            409: OpenApiResponse(description="already decided"),
            **BAD_REQUEST,
            **ERRORS,
        },
    )
    def post(self, request: Request, request_id: uuid.UUID, decision: str) -> Response:
        setup_request = get_object_or_404(SetupRequest.objects.select_related("user"), pk=request_id)
        new_status = {"approve": SetupRequest.Status.APPROVED, "reject": SetupRequest.Status.REJECTED}[
            decision
        ]
        notes = str(request.data.get("notes", ""))[:2000] if isinstance(request.data, dict) else ""
        try:
            services.setup_request_decide(
                setup_request=setup_request,
                status=new_status,
                decided_by=signed_in_user(request),
                notes=notes,
            )
        except ValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        setup_request.refresh_from_db()
        return Response(AdminSetupRequestOut(setup_request).data)
