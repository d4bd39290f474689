from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from portal import media_views, views, webhook_views
from portal.forms import EmailAuthenticationForm
from tenants.password_reset import TenantPasswordResetForm

app_name = "portal"

auth_urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html", authentication_form=EmailAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="portal/password_reset_form.html",
            form_class=TenantPasswordResetForm,
            email_template_name="portal/password_reset_email.txt",
            subject_template_name="portal/password_reset_subject.txt",
            success_url=reverse_lazy("portal:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]

webhook_urlpatterns = [
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/deliveries/", webhook_views.webhook_deliveries, name="webhook_deliveries"),
    path(
        "webhooks/deliveries/replay-failed/",
        webhook_views.webhook_deliveries_replay_failed,
        name="webhook_deliveries_replay_failed",
    ),
    path("webhooks/deliveries/<int:delivery_id>/", webhook_views.webhook_delivery, name="webhook_delivery"),
    path(
        "webhooks/deliveries/<int:delivery_id>/replay/",
        webhook_views.webhook_delivery_replay,
        name="webhook_delivery_replay",
    ),
    path("webhooks/<uuid:endpoint_id>/", webhook_views.webhook_endpoint, name="webhook"),
    path("webhooks/<uuid:endpoint_id>/enabled/", webhook_views.webhook_set_enabled, name="webhook_enabled"),
    path("webhooks/<uuid:endpoint_id>/rotate/", webhook_views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<uuid:endpoint_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("webhooks/<uuid:endpoint_id>/test/", webhook_views.webhook_send_test, name="webhook_test"),
    path(
        "webhooks/<uuid:endpoint_id>/replay-failed/",
        webhook_views.webhook_replay_failed,
        name="webhook_replay_failed",
    ),
]

urlpatterns = [
    *auth_urlpatterns,
    path("", views.dashboard, name="dashboard"),
    path("start/", views.worker_start, name="worker_start"),
    path("link-code/", views.link_code, name="link_code"),
    path("messages/", views.message_list, name="messages"),
    path("messages/<uuid:log_id>/file", media_views.message_file, name="message_file"),
    path("messages/<uuid:log_id>/thumbnail", media_views.message_thumbnail, name="message_thumbnail"),
    path("send/", views.send, name="send"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<uuid:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<uuid:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<uuid:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("history/", views.history, name="history"),
    path("setup/", views.setup, name="setup"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<uuid:key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    *webhook_urlpatterns,
]
