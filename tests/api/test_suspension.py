"""Suspending a tenant through the admin API: sends stop, the queue is held, reads go on."""

import pytest

from tenants.models import Tenant, WorkerEvent
from tests.helpers.api import as_user
from workers.models import OutboundMessage
from workers.services import outbound_enqueue

BASE = "/api/portal/tenant/current"


@pytest.fixture(autouse=True)
def no_supervisord(settings, tmp_path):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d"]


def patch_status(client, tenant: Tenant, **body: object):
    return client.patch(f"/api/admin/tenants/{tenant.id}", body, content_type="application/json")


def test_it_refuses_sends_with_the_reason_and_holds_the_queue(
    client, staff_user, tenant, tenant_user, send_key
):
    queued, _ = outbound_enqueue(tenant=tenant, to_number="+15551230001", text="before")
    client.force_login(staff_user)
    assert patch_status(client, tenant, status="SUSPENDED").json()["status"] == "SUSPENDED"
    client.logout()

    for headers in ({"HTTP_AUTHORIZATION": f"Bearer {send_key}"}, as_user(tenant_user.email)):
        response = client.post(
            f"{BASE}/messages",
            {"to": "+15551230002", "text": "after"},
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 403
        assert response.json()["detail"].startswith("This account is suspended")
        # Reading goes on: the tenant can still see what it has.
        assert client.get(f"{BASE}/messages", **headers).status_code == 200
    queued.refresh_from_db()
    assert queued.status == OutboundMessage.Status.HELD
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1


def test_reactivating_keeps_held_messages_unless_staff_release_them(client, staff_user, tenant, other_tenant):
    held, _ = outbound_enqueue(tenant=tenant, to_number="+15551230001", text="old news")
    others, _ = outbound_enqueue(tenant=other_tenant, to_number="+15551230001", text="not suspended")
    client.force_login(staff_user)
    patch_status(client, tenant, status="SUSPENDED")
    patch_status(client, tenant, status="ACTIVE")
    held.refresh_from_db()
    assert held.status == OutboundMessage.Status.HELD

    patch_status(client, tenant, status="SUSPENDED")
    assert patch_status(client, tenant, status="ACTIVE", release_held=True).json()["status"] == "ACTIVE"
    held.refresh_from_db()
    others.refresh_from_db()
    assert (held.status, held.last_error) == (OutboundMessage.Status.QUEUED, "")
    assert others.status == OutboundMessage.Status.QUEUED


def test_it_records_who_suspended_on_the_timeline(client, staff_user, tenant):
    client.force_login(staff_user)
    patch_status(client, tenant, status="SUSPENDED")
    event = WorkerEvent.objects.filter(tenant=tenant, kind="TENANT_STATUS").latest("created_at")
    assert (event.new_value, event.reason) == ("SUSPENDED", f"suspended by {staff_user.email}")


def test_a_tenant_user_cannot_suspend_or_reactivate(client, tenant, tenant_user):
    client.force_login(tenant_user)
    assert patch_status(client, tenant, status="ACTIVE").status_code == 403
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.NEW
