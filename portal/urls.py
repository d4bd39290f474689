from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from portal import views
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

urlpatterns = [
    *auth_urlpatterns,
    path("", views.dashboard, name="dashboard"),
    path("start/", views.worker_start, name="worker_start"),
    path("link-code/", views.link_code, name="link_code"),
    path("messages/", views.message_list, name="messages"),
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
]
