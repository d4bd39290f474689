"""Per-tenant API keys: shown once, stored hashed, revocable, scoped, and only the tenant's."""

import re

import pytest

from tenants.api_keys import api_key_revoke
from tenants.models import TenantApiKey
from tests.helpers.api import bearer
from workers.models import OutboundMessage
from workers.services import outbound_enqueue

BASE = "/api/portal/tenant/current"


def test_a_key_is_stored_only_as_a_hash(tenant, send_key):
    row = TenantApiKey.objects.get()
    assert send_key.startswith(f"wak_{row.prefix}_")
    assert send_key not in str(TenantApiKey.objects.values().get())
    assert len(row.key_hash) == 64


def test_a_send_key_reads_and_queues_for_its_own_tenant(client, tenant, send_key):
    assert client.get(BASE + "/status", **bearer(send_key)).json()["tenant"]["id"] == str(tenant.id)
    response = client.post(
        BASE + "/messages",
        {"to": "15551234567", "text": "hi"},
        content_type="application/json",
        **bearer(send_key),
    )
    assert response.status_code == 201
    assert TenantApiKey.objects.get().last_used_at is not None


def test_a_read_key_cannot_send(client, read_key):
    assert client.get(BASE + "/logs", **bearer(read_key)).status_code == 200
    response = client.post(
        BASE + "/messages",
        {"to": "15551234567", "text": "hi"},
        content_type="application/json",
        **bearer(read_key),
    )
    assert (response.status_code, response.json()["detail"]) == (403, "This API key is read-only.")
    assert not OutboundMessage.objects.exists()


def test_a_key_never_reaches_another_tenant(client, tenant, other_tenant, other_user, send_key):
    theirs, _ = outbound_enqueue(tenant=other_tenant, to_number="15550000001", text="theirs")
    assert client.get(f"{BASE}/messages/{theirs.id}", **bearer(send_key)).status_code == 404
    assert "theirs" not in client.get(BASE + "/messages", **bearer(send_key)).content.decode()


@pytest.mark.parametrize(
    "plain", ["wak_nope_nope", "wak_", "wak_a_b_c", "Bearer", "wak_000000000000_" + "x" * 43]
)
def test_unknown_or_malformed_keys_are_401(client, send_key, plain):
    assert client.get(BASE, **bearer(plain)).status_code == 401


def test_a_revoked_key_stops_working(client, send_key):
    api_key_revoke(key=TenantApiKey.objects.get())
    assert client.get(BASE, **bearer(send_key)).status_code == 401


def test_a_key_cannot_ask_for_setup(client, send_key):
    assert (
        client.post(
            BASE + "/setup-requests", {}, content_type="application/json", **bearer(send_key)
        ).status_code
        == 403
    )


def test_the_portal_shows_a_new_key_once_and_revokes_it(
    client, tenant_user, tenant, other_tenant, other_user
):
    client.force_login(tenant_user)
    page = client.post("/portal/api-keys/", {"name": "website", "scope": "SEND"})
    assert page["Cache-Control"] == "no-store"
    plain = re.search(r"wak_[0-9a-f]{12}_[\w-]{43}", page.content.decode()).group()
    assert client.get(BASE, **bearer(plain)).status_code == 200
    assert plain not in client.get("/portal/api-keys/").content.decode()  # never shown again
    key = TenantApiKey.objects.get(tenant=tenant)
    client.force_login(other_user)
    assert client.post(f"/portal/api-keys/{key.id}/revoke/").status_code == 404  # not theirs
    client.force_login(tenant_user)
    client.post(f"/portal/api-keys/{key.id}/revoke/")
    assert client.get(BASE, **bearer(plain)).status_code == 401
