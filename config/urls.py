from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import api, health, metrics
from tenants.admin import dashboard, logs_page
from tenants.password_reset import StaffPasswordResetForm

admin.autodiscover()  # settings install SimpleAdminConfig: only what serves pages loads admin.py
admin.site.site_header = "WhatsApp platform operations"
admin.site.site_title = "WhatsApp platform"
admin.site.index_title = "Tenants, workers and sessions"

urlpatterns = [
    path("admin/operations/", dashboard.operations, name="admin-operations"),
    path("admin/tenants/tenant/<uuid:tenant_id>/logs/", logs_page.tenant_logs, name="admin-tenant-logs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The admin's own reset flow, for staff (its login page links it by these names).
    path(
        "admin/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=StaffPasswordResetForm),
        name="admin_password_reset",
    ),
    path(
        "admin/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "admin/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("admin/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/portal/", include("portal.api.urls")),
    path("api/admin/", include("tenants.admin.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
    path("portal/", include("portal.urls")),
]
