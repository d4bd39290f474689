"""The portal API's webhooks (``/api/portal/webhooks/``): a tenant's program manages its own
endpoints, reads its deliveries and replays them, with a tenant API key.

Reads need any key; changes need a SEND key (``KeyScopeAllows``). Every id in a path is looked
up among the calling tenant's own rows: another tenant's is "not found", the same as none.
The signing secret is in the answers to create and rotate-secret only, as Stripe does it.
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ERRORS, PortalAPIView
from portal.webhook_views import delivery_or_404, endpoint_or_404
from tenants.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.selectors import parse_limit
from tenants.webhooks import events, selectors, services

# --- What goes in and out ------------------------------------------------------------------


class WebhookEndpointOut(serializers.ModelSerializer):
    sending = serializers.BooleanField(
        read_only=True, help_text="enabled and not paused: events are being sent to it now"
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "enabled",
            "sending",
            "paused_at",
            "paused_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "paused_at": {
                "help_text": "set when it kept failing and we stopped sending (events still queue)"
            },
            "previous_secret_expires_at": {
                "help_text": "after a rotation, the old secret also signs until then"
            },
        }


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret = serializers.CharField(
        read_only=True, help_text="whsec_…: verify each webhook-signature with it (Standard Webhooks)"
    )

    class Meta(WebhookEndpointOut.Meta):
        fields = [*WebhookEndpointOut.Meta.fields, "secret"]


class WebhookEndpointIn(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000, help_text="where each event is POSTed; https, on a public address"
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(events.EVENT_TYPES)),
        help_text="the events it gets; at least one",
    )
    enabled = serializers.BooleanField(required=False, default=True)


class WebhookAttemptOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["started_at", "status_code", "latency_ms", "response_excerpt", "error"]


class WebhookDeliveryOut(serializers.ModelSerializer):
    webhook_id = serializers.CharField(
        read_only=True, help_text="the webhook-id header: the same on every attempt and replay"
    )
    endpoint = serializers.UUIDField(source="endpoint_id", read_only=True)
    attempt_count = serializers.IntegerField(
        source="attempts", read_only=True, help_text="attempts in this round (a replay starts a new one)"
    )
    next_attempt_at = serializers.SerializerMethodField(
        help_text="when it is tried next; null unless waiting"
    )
    behind_earlier = serializers.BooleanField(
        read_only=True,
        default=False,
        help_text="waiting for an earlier event of its chat (or of the session) to this endpoint: "
        "events of one chat arrive in order",
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "endpoint",
            "state",
            "attempt_count",
            "next_attempt_at",
            "behind_earlier",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]

    def get_next_attempt_at(self, delivery: WebhookDelivery) -> str | None:
        if delivery.state not in services.WAITING:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    body = serializers.JSONField(source="event.payload", read_only=True, help_text="the JSON body as sent")
    attempts = WebhookAttemptOut(source="attempt_log", many=True, read_only=True)

    class Meta(WebhookDeliveryOut.Meta):
        fields = [*WebhookDeliveryOut.Meta.fields, "body", "attempts"]


class WebhookDeliveryPageOut(serializers.Serializer):
    results = WebhookDeliveryOut(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="pass as `before` for the next, older page"
    )


class ReplayIn(serializers.Serializer):
    since = serializers.DateTimeField(help_text="every failed or dead delivery created since then")
    endpoint = serializers.UUIDField(required=False, help_text="only this endpoint's")


NOT_FOUND = OpenApiResponse(description="no such endpoint or delivery of this tenant")
READ_ONLY = OpenApiResponse(
    description="a read-only API key (changes need a SEND key), or a user without a tenant"
)


# --- Views ---------------------------------------------------------------------------------


def _field_errors(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's {field: message} as DRF's 400 body, the same shape as the serializer's own."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"detail": exc.messages})


class WebhookEndpointsView(PortalAPIView):
    @extend_schema(
        summary="The tenant's webhook endpoints", responses={200: WebhookEndpointOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        return Response(
            WebhookEndpointOut(selectors.endpoints_of(tenant=self.tenant(request)), many=True).data
        )

    @extend_schema(
        summary="Add a webhook endpoint",
        description="The answer holds the signing secret: keep it, it is not shown by the API again "
        "(rotate-secret gives a new one).",
        request=WebhookEndpointIn,
        responses={
            201: WebhookEndpointWithSecretOut,
            400: OpenApiResponse(description="not https, a private address, no events, an unknown event"),
            **ERRORS,
            403: READ_ONLY,
        },
    )
    def post(self, request: Request) -> Response:
        data = WebhookEndpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint = services.endpoint_create(tenant=self.tenant(request), **data.validated_data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(WebhookEndpointWithSecretOut(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointView(PortalAPIView):
    @extend_schema(
        summary="A webhook endpoint", responses={200: WebhookEndpointOut, 404: NOT_FOUND, **ERRORS}
    )
    def get(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        return Response(WebhookEndpointOut(endpoint_or_404(self.tenant(request), endpoint_id)).data)

    @extend_schema(
        summary="Change an endpoint: its URL, description, events, or enabled",
        description="Enabling an endpoint that was paused after failing sends what waited for it, in order.",
        request=WebhookEndpointIn(partial=True),
        responses={
            200: WebhookEndpointOut,
            400: OpenApiResponse(description="a bad URL or event list; nothing was changed"),
            404: NOT_FOUND,
            **ERRORS,
            403: READ_ONLY,
        },
    )
    def patch(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        endpoint = endpoint_or_404(self.tenant(request), endpoint_id)
        data = WebhookEndpointIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            endpoint = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(WebhookEndpointOut(endpoint).data)

    @extend_schema(
        summary="Delete an endpoint and its deliveries",
        responses={204: None, 404: NOT_FOUND, **ERRORS, 403: READ_ONLY},
    )
    def delete(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        services.endpoint_delete(endpoint=endpoint_or_404(self.tenant(request), endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(PortalAPIView):
    @extend_schema(
        summary="A new signing secret; the old one also signs for 24 hours",
        request=None,
        responses={200: WebhookEndpointWithSecretOut, 404: NOT_FOUND, **ERRORS, 403: READ_ONLY},
    )
    def post(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        endpoint = services.endpoint_rotate_secret(
            endpoint=endpoint_or_404(self.tenant(request), endpoint_id)
        )
        return Response(WebhookEndpointWithSecretOut(endpoint).data)


class WebhookSendTestView(PortalAPIView):
    @extend_schema(
        summary="Send a webhook.test event to this endpoint",
        description="Queued at once; its delivery shows the receiver's answer within seconds "
        "(sent only while the endpoint is enabled).",
        request=None,
        responses={202: WebhookDeliveryOut, 404: NOT_FOUND, **ERRORS, 403: READ_ONLY},
    )
    def post(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        delivery = services.endpoint_send_test(endpoint=endpoint_or_404(self.tenant(request), endpoint_id))
        return Response(WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)


DELIVERY_PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=f"1 to {selectors.MAX_DELIVERY_PAGE_SIZE} (default {selectors.DELIVERY_PAGE_SIZE})",
    ),
    OpenApiParameter("before", OpenApiTypes.STR, description="the `next_cursor` of the previous page"),
    OpenApiParameter("state", OpenApiTypes.STR, enum=WebhookDelivery.State.values),
    OpenApiParameter("event", OpenApiTypes.STR, enum=events.ALL_TYPES),
    OpenApiParameter("endpoint", OpenApiTypes.UUID, description="one endpoint's deliveries"),
]


class WebhookDeliveriesView(PortalAPIView):
    @extend_schema(
        operation_id="portal_webhooks_deliveries_list",
        summary="The tenant's webhook deliveries, newest first (keyset pagination)",
        parameters=DELIVERY_PARAMETERS,
        responses={
            200: WebhookDeliveryPageOut,
            400: OpenApiResponse(description="a bad limit, cursor or filter"),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        tenant, params = self.tenant(request), request.query_params
        page = selectors.delivery_page(
            tenant=tenant,
            limit=parse_limit(
                params.get("limit"),
                default=selectors.DELIVERY_PAGE_SIZE,
                maximum=selectors.MAX_DELIVERY_PAGE_SIZE,
            ),
            before=selectors.parse_before(params.get("before")),
            state=selectors.parse_state(params.get("state")),
            event_type=selectors.parse_event_type(params.get("event")),
            endpoint=selectors.parse_endpoint(tenant=tenant, value=params.get("endpoint")),
        )
        return Response(
            {"results": WebhookDeliveryOut(page.deliveries, many=True).data, "next_cursor": page.next_cursor}
        )


class WebhookDeliveryView(PortalAPIView):
    @extend_schema(
        summary="A delivery: the body as sent and every attempt",
        responses={200: WebhookDeliveryDetailOut, 404: NOT_FOUND, **ERRORS},
    )
    def get(self, request: Request, delivery_id: int) -> Response:
        return Response(WebhookDeliveryDetailOut(delivery_or_404(self.tenant(request), delivery_id)).data)


class WebhookDeliveryReplayView(PortalAPIView):
    @extend_schema(
        summary="Send a delivery again, with the same webhook-id",
        request=None,
        responses={202: WebhookDeliveryOut, 404: NOT_FOUND, **ERRORS, 403: READ_ONLY},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = delivery_or_404(self.tenant(request), delivery_id)
        services.delivery_replay(delivery=delivery)
        return Response(WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookReplayView(PortalAPIView):
    @extend_schema(
        summary="Send again every failed or dead delivery since a time",
        request=ReplayIn,
        responses={
            202: inline_serializer("WebhookReplayed", {"queued": serializers.IntegerField()}),
            400: OpenApiResponse(description="no or a bad `since`, or not one of your endpoints"),
            **ERRORS,
            403: READ_ONLY,
        },
    )
    def post(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = ReplayIn(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint: WebhookEndpoint | None = None
        if "endpoint" in data.validated_data:
            endpoint = selectors.parse_endpoint(tenant=tenant, value=str(data.validated_data["endpoint"]))
        queued = services.deliveries_replay_failed(
            tenant=tenant, since=data.validated_data["since"], endpoint=endpoint
        )
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)
