from django.urls import path

from portal.api import views as api
from portal.api import webhooks

urlpatterns = [
    path("tenant/current", api.CurrentTenantView.as_view(), name="portal-api-current"),
    path("tenant/current/status", api.StatusView.as_view(), name="portal-api-status"),
    path("tenant/current/qr", api.QrView.as_view(), name="portal-api-qr"),
    path("tenant/current/link-code", api.LinkCodeView.as_view(), name="portal-api-link-code"),
    path("tenant/current/logs", api.LogsView.as_view(), name="portal-api-logs"),
    path("tenant/current/logs/<uuid:log_id>/media", api.LogMediaView.as_view(), name="portal-api-log-media"),
    path("tenant/current/messages", api.MessagesView.as_view(), name="portal-api-messages"),
    path(
        "tenant/current/messages/<uuid:message_id>",
        api.MessageDetailView.as_view(),
        name="portal-api-message",
    ),
    path("tenant/current/setup-requests", api.SetupRequestsView.as_view(), name="portal-api-setup-requests"),
    path("webhooks/endpoints", webhooks.WebhookEndpointsView.as_view(), name="portal-api-webhook-endpoints"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>",
        webhooks.WebhookEndpointView.as_view(),
        name="portal-api-webhook-endpoint",
    ),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/rotate-secret",
        webhooks.WebhookRotateSecretView.as_view(),
        name="portal-api-webhook-rotate-secret",
    ),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/test",
        webhooks.WebhookSendTestView.as_view(),
        name="portal-api-webhook-test",
    ),
    path(
        "webhooks/deliveries", webhooks.WebhookDeliveriesView.as_view(), name="portal-api-webhook-deliveries"
    ),
    path(
        "webhooks/deliveries/<int:delivery_id>",
        webhooks.WebhookDeliveryView.as_view(),
        name="portal-api-webhook-delivery",
    ),
    path(
        "webhooks/deliveries/<int:delivery_id>/replay",
        webhooks.WebhookDeliveryReplayView.as_view(),
        name="portal-api-webhook-delivery-replay",
    ),
    path("webhooks/replay", webhooks.WebhookReplayView.as_view(), name="portal-api-webhook-replay"),
]
