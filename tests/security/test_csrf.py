"""Every form that changes something refuses a post without its CSRF token."""

import pytest
from django.test import Client

from tenants.models import SetupRequest, TenantApiKey
from workers.models import OutboundMessage, ReplyRule


@pytest.fixture
def strict(tenant_user) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")
    client.force_login(tenant_user)
    return client


@pytest.mark.parametrize(
    ("url", "data", "model"),
    [
        (
            "/portal/send/",
            {"to_number": "15551234567", "text": "hi", "token": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
            OutboundMessage,
        ),
        (
            "/portal/rules/new/",
            {"pattern": "hi", "reply_text": "hello", "match_type": "KEYWORD", "priority": 1},
            ReplyRule,
        ),
        ("/portal/setup/", {"notes": "please"}, SetupRequest),
        ("/portal/api-keys/", {"name": "site", "scope": "SEND"}, TenantApiKey),
    ],
)
def test_portal_forms_refuse_a_post_without_the_token(strict, url, data, model):
    assert strict.post(url, data).status_code == 403
    assert not model.objects.exists()


def test_admin_actions_refuse_a_post_without_the_token(staff_user, tenant):
    client = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")
    client.force_login(staff_user)
    response = client.post(
        "/admin/tenants/tenant/", {"action": "stop_workers", "_selected_action": [str(tenant.pk)]}
    )
    assert response.status_code == 403
