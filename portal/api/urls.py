from django.urls import path

from portal.api import views as api

urlpatterns = [
    path("tenant/current", api.CurrentTenantView.as_view(), name="portal-api-current"),
    path("tenant/current/status", api.StatusView.as_view(), name="portal-api-status"),
    path("tenant/current/qr", api.QrView.as_view(), name="portal-api-qr"),
    path("tenant/current/link-code", api.LinkCodeView.as_view(), name="portal-api-link-code"),
    path("tenant/current/logs", api.LogsView.as_view(), name="portal-api-logs"),
    path("tenant/current/messages", api.MessagesView.as_view(), name="portal-api-messages"),
    path(
        "tenant/current/messages/<uuid:message_id>",
        api.MessageDetailView.as_view(),
        name="portal-api-message",
    ),
    path("tenant/current/setup-requests", api.SetupRequestsView.as_view(), name="portal-api-setup-requests"),
]
