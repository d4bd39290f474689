"""The portal API's views (``/api/portal/``): a tenant user's own data, compatible with the seed.

Who is asking comes from the internal key and ``x-user-email`` (a front end that proxies for
the user), or from a logged-in tenant user's session (the portal's own pages). Every view
reaches the tenant through ``tenant_for_user``: no id sent by the caller names a tenant.
"""

import logging
import uuid

from django.conf import settings
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import wording
from portal.api.authentication import (
    ApiKeyCaller,
    IsTenantUser,
    KeyScopeAllows,
    PortalKeyAuthentication,
    TenantApiKeyAuthentication,
    api_caller,
)
from portal.api.serializers import (
    LinkCodeIn,
    LinkCodeOut,
    OutboundIn,
    OutboundOut,
    PortalSetupRequestOut,
    PortalTenantOut,
    PortalUserOut,
    QrOut,
    SetupRequestIn,
    StatusOut,
)
from tenants.access import signed_in_user, tenant_for_user
from tenants.media import media_response
from tenants.message_pages import PAGE_PARAMETERS, MessagePageOut, message_page_response
from tenants.models import Tenant, TenantApiKey, WhatsAppSession, seconds_since
from tenants.selectors import link_code_status, message_of, setup_requests
from tenants.services import LinkCodeRefused, session_request_link_code, setup_request_create
from workers import services as worker_services
from workers.models import OutboundMessage
from workers.selectors import outbound_queue

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_MAX_LENGTH = OutboundMessage._meta.get_field("idempotency_key").max_length or 200
# The current-tenant summary carries the latest requests; their own endpoint lists more.
CURRENT_SETUP_REQUESTS = 50
SETUP_REQUESTS_LISTED = 100
OUTBOUND_LISTED = 100


class PortalAPIView(APIView):
    authentication_classes = [TenantApiKeyAuthentication, PortalKeyAuthentication, SessionAuthentication]
    permission_classes = [IsTenantUser, KeyScopeAllows]

    def tenant(self, request: Request) -> Tenant:
        return tenant_for_user(api_caller(request))


ERRORS = {
    401: OpenApiResponse(description="x-portal-key missing or wrong (and no session)"),
    403: OpenApiResponse(description="unknown x-user-email, or a user without a tenant"),
}


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
        requests = setup_requests(tenant=tenant, limit=CURRENT_SETUP_REQUESTS)
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
                "worker": {
                    "status": worker.status,
                    "last_error": wording.reason_words(worker.last_error),
                    "start_position": worker.start_position,
                },
                "session": {
                    "state": session.state,
                    "state_label": session.get_state_display(),
                    "state_changed_at": session.state_changed_at,
                    "heartbeat_age_seconds": seconds_since(session.last_seen_at, timezone.now()),
                    "last_seen_at": session.last_seen_at,
                    "qr_refresh_count": session.qr_refresh_count,
                    "qr_max_refreshes": settings.QR_MAX_REFRESHES,
                    "chat_list_ok": session.chat_list_ok,
                    "last_page_event_at": session.last_page_event_at,
                    "link_code_state": link_code_status(session=session).state,
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
            reasons: dict[str, str] = {
                WhatsAppSession.State.CONNECTED: "already connected: no QR code is needed",
                WhatsAppSession.State.STOPPED: "the worker is not running: no QR code yet",
            }
            reason = reasons.get(
                session.state, f"no QR code is shown now (session {session.get_state_display().lower()})"
            )
            return Response({"detail": reason}, status=status.HTTP_404_NOT_FOUND)
        return Response(
            {
                "data_uri": session.last_qr_data_uri,
                "issued_at": session.qr_issued_at,
                "age_seconds": seconds_since(session.qr_issued_at, timezone.now()) or 0,
                "refresh_count": session.qr_refresh_count,
                "max_refreshes": settings.QR_MAX_REFRESHES,
                "expected_lifetime_seconds": settings.QR_EXPECTED_LIFETIME_SECONDS,
            }
        )


class LinkCodeView(PortalAPIView):
    @extend_schema(
        summary="Where linking by phone number stands (the pairing code, once WhatsApp gave it)",
        responses={200: LinkCodeOut, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(LinkCodeOut(link_code_status(session=self.tenant(request).session)).data)

    @extend_schema(
        summary="Link by phone number instead of QR: ask WhatsApp for a pairing code",
        description="The worker asks WhatsApp for an 8-character code for this number; it shows "
        "here (GET) within seconds. Asking again replaces the code. Needs the bot running and "
        "waiting for a login (a QR code on the dashboard).",
        request=LinkCodeIn,
        responses={
            202: LinkCodeOut,
            400: OpenApiResponse(description="not a phone number in international format"),
            409: OpenApiResponse(description="linked already, or the bot is not waiting for a login"),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        session = self.tenant(request).session
        data = LinkCodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session_request_link_code(session=session, phone=data.validated_data["phone"])
        except LinkCodeRefused as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response(LinkCodeOut(link_code_status(session=session)).data, status=status.HTTP_202_ACCEPTED)


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


class LogMediaView(PortalAPIView):
    @extend_schema(
        summary="A logged message's file (photo, document, voice note), as an attachment",
        description=(
            "The bytes as received, typed by their content (not by the sender's claim). "
            "The `media.url` of a `message.received` webhook points here."
        ),
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="no such message of this tenant, or no file kept for it"),
            **ERRORS,
        },
    )
    def get(self, request: Request, log_id: uuid.UUID) -> HttpResponseBase:
        log = message_of(tenant=self.tenant(request), log_id=log_id)
        if log is None:
            raise exceptions.NotFound("No such message.")
        return media_response(log)


class MessagesView(PortalAPIView):
    # JSON for text; multipart/form-data for a file with its caption.
    parser_classes = [JSONParser, MultiPartParser]

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
            400: OpenApiResponse(
                description="bad number, empty or oversized text, Idempotency-Key too long, a file "
                "over the limit, a file_url that may not or could not be fetched (`detail` says why)"
            ),
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
        upload, url = data.validated_data.get("file"), data.validated_data.get("file_url")
        voice_note = data.validated_data["voice_note"]
        try:
            media = None
            if upload:
                media = worker_services.outbound_media_upload(
                    tenant=tenant, upload=upload, voice_note=voice_note
                )
            elif url:
                media = worker_services.outbound_media_fetch(tenant=tenant, url=url, voice_note=voice_note)
            message, created = worker_services.outbound_enqueue(
                tenant=tenant,
                to_number=data.validated_data["to"],
                text=data.validated_data["text"],
                source=OutboundMessage.Source.API,
                idempotency_key=key,
                media=media,
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
        messages = outbound_queue(tenant=self.tenant(request), limit=OUTBOUND_LISTED)
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
            tenant=self.tenant(request), user=signed_in_user(request), notes=data.validated_data["notes"]
        )
        return Response(PortalSetupRequestOut(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The tenant's setup requests", responses={200: PortalSetupRequestOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        requests = setup_requests(tenant=self.tenant(request), limit=SETUP_REQUESTS_LISTED)
        return Response(PortalSetupRequestOut(requests, many=True).data)
