"""Sign-in throttling: repeated failures lock the account out, in the portal and the admin."""

import pytest
from django.urls import reverse

from tenants.models import Counter, LoginFailure

PORTAL_LOGIN = "/portal/login/"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15


def sign_in(client, url: str, email: str, password: str):
    return client.post(url, {"username": email, "password": password})


@pytest.mark.parametrize("url", [PORTAL_LOGIN, "/admin/login/"])
def test_it_locks_out_after_repeated_failures_even_with_the_right_password(
    client, tenant_user, staff_user, url
):
    email = staff_user.email if url.startswith("/admin") else tenant_user.email
    right = "staff pass phrase" if url.startswith("/admin") else "correct horse battery"
    for _ in range(3):
        assert sign_in(client, url, email, "wrong").status_code in (200, 400)
    locked = sign_in(client, url, email, right)
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.content.decode()
    assert "_auth_user_id" not in client.session
    where = "admin" if url.startswith("/admin") else "portal"
    assert Counter.objects.get(name=f'whatsapp_login_failures_total{{where="{where}"}}').value == 3
    assert Counter.objects.get(name=f'whatsapp_login_lockouts_total{{where="{where}"}}').value == 1


def test_a_success_clears_earlier_failures(client, tenant_user):
    sign_in(client, PORTAL_LOGIN, tenant_user.email, "wrong")
    response = sign_in(client, PORTAL_LOGIN, tenant_user.email, "correct horse battery")
    assert response.status_code == 302
    assert not LoginFailure.objects.exists()


def test_failures_for_one_account_do_not_lock_another(client, tenant_user, staff_user):
    for _ in range(3):
        sign_in(client, PORTAL_LOGIN, "someone.else@acme.test", "wrong")
    assert sign_in(client, PORTAL_LOGIN, tenant_user.email, "correct horse battery").status_code == 302


def test_the_log_names_no_full_email_or_password(client, tenant_user, caplog):
    sign_in(client, PORTAL_LOGIN, tenant_user.email, "hunter2-secret")
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "o***@acme.test" in logged
    assert tenant_user.email not in logged
    assert "hunter2-secret" not in logged


def test_the_admin_enforces_csrf(tenant_user, staff_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")
    assert sign_in(strict, reverse("admin:login"), staff_user.email, "staff pass phrase").status_code == 403
    assert sign_in(strict, PORTAL_LOGIN, tenant_user.email, "correct horse battery").status_code == 403
