"""What production pages send with every answer: CSP, HSTS, no framing, secure cookies."""

import re

import pytest

PAGES = ["/portal/login/", "/portal/", "/portal/messages/", "/admin/login/", "/admin/", "/admin/operations/"]


@pytest.fixture
def signed_in(client, tenant_user, staff_user):
    def sign_in(path: str):
        if not path.endswith("/login/"):
            client.force_login(staff_user if path.startswith("/admin/") else tenant_user)
        return client

    return sign_in


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_hardening_headers(signed_in, path):
    response = signed_in(path).get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/portal/", "/portal/login/"])
def test_portal_pages_run_no_inline_script_the_policy_would_block(signed_in, path):
    body = signed_in(path).get(path).content.decode()
    # Data blocks (type="application/json") are not run; any other script must be a file.
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", body)
    assert " onclick=" not in body and "javascript:" not in body


def test_the_session_and_csrf_cookies_are_secure_and_the_session_unreadable_by_script(client, tenant_user):
    login = client.get("/portal/login/")
    response = client.post(
        "/portal/login/",
        {"username": tenant_user.email, "password": "correct horse battery"},
    )
    assert response.status_code == 302
    session, csrf = response.cookies["sessionid"], login.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"]
