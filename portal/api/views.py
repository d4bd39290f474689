"""The portal API (``/api/portal/``): a tenant user's own data, compatible with the seed.

Who is asking comes from the internal key and ``x-user-email`` (a front end that proxies for
the user), or from a logged-in tenant user's session (the portal's own pages). Every view
reaches the tenant through ``tenant_for_user``: no id sent by the caller names a tenant.
"""

import hmac
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.addresses import client_address
from portal import wording
from tenants import selectors
from tenants.access import tenant_for_user
from tenants.api_keys import api_key_find
from tenants.counters import counter_increment
from tenants.models import MessageLog, SetupRequest, Tenant, TenantApiKey, User, WhatsAppSession
from tenants.services import setup_request_create
from workers import services as worker_services
from workers.models import MAX_MESSAGE_LENGTH, OutboundMessage

logger = logging.getLogger(__name__)

UNAUTHORIZED_METRIC = "whatsapp_portal_api_unauthorized_total"
IDEMPOTENCY_KEY_MAX_LENGTH = OutboundMessage._meta.get_field("idempotency_key").max_length or 200


class PortalKeyAuthentication(BaseAuthentication):
    """``x-portal-key`` (compared in constant time) plus ``x-user-email``."""

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        key = request.headers.get("x-portal-key")
        email = request.headers.get("x-user-email")
        if key is None and email is None:
            return None  # not this scheme: the session may still authenticate
        expected = settings.PORTAL_INTERNAL_KEY.encode()
        if not key or not expected or not hmac.compare_digest(key.encode(), expected):
            self._refuse(request)
        user = (
            User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
            if email
            else None
        )
        if user is None:
            raise exceptions.PermissionDenied("x-user-email: no active user with this email")
        return user, "portal-key"

    def authenticate_header(self, request: Request) -> str:
        return 'PortalKey realm="api"'

    @staticmethod
    def _refuse(request: Request) -> None:
        counter_increment(metric=UNAUTHORIZED_METRIC)
        logger.warning(
            "portal API key refused",
            extra={
                "path": request.path,
                "remote_addr": client_address(request),
                "key_sent": "x-portal-key" in request.headers,
            },
        )
        raise exceptions.AuthenticationFailed("x-portal-key is missing or wrong")


@dataclass(frozen=True)
class ApiKeyCaller:
    """Who calls with a tenant's own API key: that tenant, with the key's scope, no person."""

    key: TenantApiKey
    is_authenticated = True
    is_active = True
    role = User.Role.TENANT

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.key.tenant_id

    @property
    def email(self) -> str:
        return f"api-key:{self.key.prefix}"


class TenantApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer wak_…``: a tenant's own key, for tenants who call the API directly."""

    def authenticate(self, request: Request) -> tuple[ApiKeyCaller, TenantApiKey] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer wak_"):
            return None
        key = api_key_find(header.removeprefix("Bearer ").strip())
        if key is None:
            counter_increment(metric=UNAUTHORIZED_METRIC)
            logger.warning("portal API key refused", extra={"path": request.path, "scheme": "tenant-key"})
            raise exceptions.AuthenticationFailed("this API key is unknown or was revoked")
        return ApiKeyCaller(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TenantKeyScheme(OpenApiAuthenticationExtension):
    target_class = TenantApiKeyAuthentication
    name = "tenantApiKey"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "a tenant's own key, wak_…"}


class KeyScopeAllows(BasePermission):
    """A read-only key may read; only a SEND key may queue messages or change anything."""

    message = "This API key is read-only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth if isinstance(request.auth, TenantApiKey) else None
        return (
            key is None
            or request.method in ("GET", "HEAD", "OPTIONS")
            or key.scope == TenantApiKey.Scope.SEND
        )


class PortalKeyScheme(OpenApiAuthenticationExtension):
    """Describes the key pair in the OpenAPI schema: both headers go together."""

    target_class = PortalKeyAuthentication
    name = ["portalKey", "userEmail"]

    def get_security_definition(self, auto_schema: object) -> list[dict]:
        return [
            {"type": "apiKey", "in": "header", "name": "x-portal-key"},
            {"type": "apiKey", "in": "header", "name": "x-user-email"},
        ]


class IsTenantUser(BasePermission):
    message = "This account does not belong to a tenant."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == User.Role.TENANT and user.tenant_id)


class PortalAPIView(APIView):
    authentication_classes = [TenantApiKeyAuthentication, PortalKeyAuthentication, SessionAuthentication]
    permission_classes = [IsTenantUser, KeyScopeAllows]

    def tenant(self, request: Request) -> Tenant:
        return tenant_for_user(request.user)


ERRORS = {
    401: OpenApiResponse(description="x-portal-key missing or wrong (and no session)"),
    403: OpenApiResponse(description="unknown x-user-email, or a user without a tenant"),
}


# --- serializers ---------------------------------------------------------------------------


class PortalTenantOut(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "status", "created_at"]


class PortalUserOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role"]


class PortalSetupRequestOut(serializers.ModelSerializer):
    class Meta:
        model = SetupRequest
        fields = ["id", "status", "notes", "created_at", "decided_at"]


class MessageLogOut(serializers.ModelSerializer):
    class Meta:
        model = MessageLog
        fields = [
            "id",
            "direction",
            "from_number",
            "to_number",
            "message_text",
            "wa_message_id",
            "created_at",
        ]


class MessagePageOut(serializers.Serializer):
    results = MessageLogOut(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="pass as `before` for the next, older page"
    )


class OutboundOut(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "to_number",
            "text",
            "status",
            "attempts",
            "last_error",
            "wa_message_id",
            "created_at",
            "sent_at",
        ]


class OutboundIn(serializers.Serializer):
    to = serializers.CharField(max_length=40, help_text="international number, e.g. +15551234567")
    text = serializers.CharField(max_length=MAX_MESSAGE_LENGTH, trim_whitespace=False)


class SetupRequestIn(serializers.Serializer):
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


StatusOut = inline_serializer(
    "PortalStatus",
    {
        "tenant": PortalTenantOut(),
        "worker": inline_serializer(
            "PortalWorker",
            {
                "status": serializers.CharField(),
                "last_error": serializers.CharField(
                    help_text="the last problem in plain words (raw reasons can name hosts or exceptions)"
                ),
            },
        ),
        "session": inline_serializer(
            "PortalSession",
            {
                "state": serializers.CharField(),
                "state_label": serializers.CharField(),
                "state_changed_at": serializers.DateTimeField(),
                "heartbeat_age_seconds": serializers.IntegerField(allow_null=True),
                "last_seen_at": serializers.DateTimeField(allow_null=True),
                "qr_refresh_count": serializers.IntegerField(),
                "qr_max_refreshes": serializers.IntegerField(),
                "chat_list_ok": serializers.BooleanField(
                    help_text="the chat list answered at the last heartbeat"
                ),
                "last_page_event_at": serializers.DateTimeField(allow_null=True),
            },
        ),
        "browser": inline_serializer(
            "PortalBrowser",
            {
                "memory_mb": serializers.FloatField(allow_null=True, help_text="PSS of the Chromium tree"),
                "cpu_percent": serializers.FloatField(allow_null=True),
            },
        ),
    },
)
QrOut = inline_serializer(
    "PortalQr",
    {
        "data_uri": serializers.CharField(),
        "issued_at": serializers.DateTimeField(),
        "age_seconds": serializers.IntegerField(),
        "refresh_count": serializers.IntegerField(),
        "max_refreshes": serializers.IntegerField(),
        "expected_lifetime_seconds": serializers.IntegerField(),
    },
)


def _seconds_since(moment: Any) -> int | None:
    return None if moment is None else max(0, int((timezone.now() - moment).total_seconds()))


# --- views ---------------------------------------------------------------------------------


class CurrentTenantView(PortalAPIView):
    @extend_schema(
        summary="The user, their tenant and its setup requests",
        responses={
            200: inline_serializer(
                "PortalCurrent",
                {
                    "user": PortalUserOut(),
                    "tenant": PortalTenantOut(),
                    "setup_requests": PortalSetupRequestOut(many=True),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        tenant = self.tenant(request)
        requests = SetupRequest.objects.filter(tenant=tenant).order_by("-created_at")[:50]
        caller = request.user
        user = (
            {"id": None, "email": caller.email, "name": caller.key.name, "role": "API_KEY"}
            if isinstance(caller, ApiKeyCaller)
            else PortalUserOut(caller).data
        )
        return Response(
            {
                "user": user,
                "tenant": PortalTenantOut(tenant).data,
                "setup_requests": PortalSetupRequestOut(requests, many=True).data,
            }
        )


class StatusView(PortalAPIView):
    @extend_schema(
        summary="Worker status, session state and heartbeat age", responses={200: StatusOut, **ERRORS}
    )
    def get(self, request: Request) -> Response:
        tenant = self.tenant(request)
        session, worker = tenant.session, tenant.worker
        return Response(
            {
                "tenant": PortalTenantOut(tenant).data,
                "worker": {"status": worker.status, "last_error": wording.reason_words(worker.last_error)},
                "session": {
                    "state": session.state,
                    "state_label": session.get_state_display(),
                    "state_changed_at": session.state_changed_at,
                    "heartbeat_age_seconds": _seconds_since(session.last_seen_at),
                    "last_seen_at": session.last_seen_at,
                    "qr_refresh_count": session.qr_refresh_count,
                    "qr_max_refreshes": settings.QR_MAX_REFRESHES,
                    "chat_list_ok": session.chat_list_ok,
                    "last_page_event_at": session.last_page_event_at,
                },
                "browser": {"memory_mb": worker.browser_memory_mb, "cpu_percent": worker.browser_cpu_percent},
            }
        )


class QrView(PortalAPIView):
    @extend_schema(
        summary="The login QR code as a PNG data URI",
        responses={
            200: QrOut,
            404: OpenApiResponse(description="no QR code: connected already, or not started"),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        session = self.tenant(request).session
        if session.state != WhatsAppSession.State.QR or not session.last_qr_data_uri:
            reason = {
                WhatsAppSession.State.CONNECTED: "already connected: no QR code is needed",
                WhatsAppSession.State.STOPPED: "the worker is not running: no QR code yet",
            }.get(session.state, f"no QR code is shown now (session {session.get_state_display().lower()})")
            return Response({"detail": reason}, status=status.HTTP_404_NOT_FOUND)
        return Response(
            {
                "data_uri": session.last_qr_data_uri,
                "issued_at": session.qr_issued_at,
                "age_seconds": _seconds_since(session.qr_issued_at) or 0,
                "refresh_count": session.qr_refresh_count,
                "max_refreshes": settings.QR_MAX_REFRESHES,
                "expected_lifetime_seconds": settings.QR_EXPECTED_LIFETIME_SECONDS,
            }
        )


PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=f"1 to {selectors.MAX_PAGE_SIZE} (default {selectors.DEFAULT_PAGE_SIZE})",
    ),
    OpenApiParameter("before", OpenApiTypes.STR, description="the `next_cursor` of the previous page"),
    OpenApiParameter("direction", OpenApiTypes.STR, enum=["IN", "OUT"]),
    OpenApiParameter("q", OpenApiTypes.STR, description="a number (prefix) or text to search"),
]


def message_page_response(request: Request, tenant: Tenant) -> Response:
    params = request.query_params
    page = selectors.message_log_page(
        tenant=tenant,
        limit=selectors.parse_limit(params.get("limit")),
        before=params.get("before") or None,
        direction=selectors.parse_direction(params.get("direction")),
        q=params.get("q", ""),
    )
    return Response(
        {"results": MessageLogOut(page.messages, many=True).data, "next_cursor": page.next_cursor}
    )


class LogsView(PortalAPIView):
    @extend_schema(
        summary="The tenant's message log, newest first (keyset pagination)",
        parameters=PAGE_PARAMETERS,
        responses={
            200: MessagePageOut,
            400: OpenApiResponse(description="a bad limit, cursor or filter"),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return message_page_response(request, self.tenant(request))


class MessagesView(PortalAPIView):
    @extend_schema(
        summary="Queue an outbound message",
        request=OutboundIn,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="the same key returns the message queued before",
            )
        ],
        responses={
            201: OutboundOut,
            200: OpenApiResponse(
                OutboundOut, description="replayed: queued before with this Idempotency-Key"
            ),
            400: OpenApiResponse(description="bad number, empty or oversized text, Idempotency-Key too long"),
            409: OpenApiResponse(description="the Idempotency-Key was used for a different message"),
            **ERRORS,
            403: OpenApiResponse(
                description="unknown x-user-email, a user without a tenant, or the tenant is suspended"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = OutboundIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            # Cutting it would make two different keys with a common prefix one key.
            raise exceptions.ValidationError(
                {"Idempotency-Key": [f"at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters; got {len(key)}"]}
            )
        try:
            message, created = worker_services.outbound_enqueue(
                tenant=tenant,
                to_number=data.validated_data["to"],
                text=data.validated_data["text"],
                source=OutboundMessage.Source.API,
                idempotency_key=key,
            )
        except worker_services.IdempotencyConflict as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        except worker_services.TenantSuspended as exc:
            raise exceptions.PermissionDenied(exc.messages[0]) from exc
        return Response(
            OutboundOut(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="The latest queued messages and their status",
        responses={200: OutboundOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        messages = OutboundMessage.objects.filter(tenant=self.tenant(request)).order_by("-created_at")[:100]
        return Response(OutboundOut(messages, many=True).data)


class MessageDetailView(PortalAPIView):
    @extend_schema(
        summary="A queued message's status",
        responses={
            200: OutboundOut,
            404: OpenApiResponse(description="no such message of this tenant"),
            **ERRORS,
        },
    )
    def get(self, request: Request, message_id: str) -> Response:
        message = OutboundMessage.objects.filter(tenant=self.tenant(request), pk=message_id).first()
        if message is None:
            return Response({"detail": "No such message."}, status=status.HTTP_404_NOT_FOUND)
        return Response(OutboundOut(message).data)


class SetupRequestsView(PortalAPIView):
    @extend_schema(
        summary="Ask for setup",
        request=SetupRequestIn,
        responses={
            201: PortalSetupRequestOut,
            400: OpenApiResponse(description="notes too long, or not JSON"),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, TenantApiKey):
            raise exceptions.PermissionDenied(
                "Setup is asked for by a person: sign in, or use the portal key."
            )
        data = SetupRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        created = setup_request_create(
            tenant=self.tenant(request), user=request.user, notes=data.validated_data["notes"]
        )
        return Response(PortalSetupRequestOut(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The tenant's setup requests", responses={200: PortalSetupRequestOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        requests = SetupRequest.objects.filter(tenant=self.tenant(request)).order_by("-created_at")[:100]
        return Response(PortalSetupRequestOut(requests, many=True).data)
