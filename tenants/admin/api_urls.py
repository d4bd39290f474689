from django.urls import path, re_path

from tenants.admin import api

urlpatterns = [
    path("tenants", api.TenantsView.as_view(), name="admin-api-tenants"),
    path("tenants/<uuid:tenant_id>", api.TenantDetailView.as_view(), name="admin-api-tenant"),
    re_path(
        r"^tenants/(?P<tenant_id>[0-9a-f-]{36})/worker/(?P<action>start|stop|restart)$",
        api.WorkerActionView.as_view(),
        name="admin-api-worker-action",
    ),
    path(
        "tenants/<uuid:tenant_id>/messages",
        api.TenantMessagesView.as_view(),
        name="admin-api-tenant-messages",
    ),
    path("tenants/<uuid:tenant_id>/logs", api.TenantLogFileView.as_view(), name="admin-api-tenant-logs"),
    path(
        "tenants/<uuid:tenant_id>/timeline",
        api.TenantTimelineView.as_view(),
        name="admin-api-tenant-timeline",
    ),
    path("workers", api.WorkersView.as_view(), name="admin-api-workers"),
    path("setup-requests", api.SetupRequestsView.as_view(), name="admin-api-setup-requests"),
    re_path(
        r"^setup-requests/(?P<request_id>[0-9a-f-]{36})/(?P<decision>approve|reject)$",
        api.SetupRequestDecisionView.as_view(),
        name="admin-api-setup-decision",
    ),
]
