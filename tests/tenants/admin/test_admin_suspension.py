"""Suspending and reactivating tenants from the admin's tenant list."""

import pytest

from tenants.models import Tenant
from workers.models import OutboundMessage
from workers.services import outbound_enqueue

CHANGELIST = "/admin/tenants/tenant/"


@pytest.fixture(autouse=True)
def no_supervisord(settings, tmp_path):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d"]


def act(client, action: str, *tenants: Tenant):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(t.pk) for t in tenants]}, follow=True
    )


def test_staff_suspend_and_reactivate_keeping_or_releasing_held_messages(
    client, staff_user, tenant, other_tenant
):
    message, _ = outbound_enqueue(tenant=tenant, to_number="+15551230001", text="waiting")
    client.force_login(staff_user)
    page = act(client, "suspend_tenants", tenant).content.decode()
    assert "Acme Bakery: suspended, 1 message(s) held; its worker stops by itself" in page
    tenant.refresh_from_db()
    other_tenant.refresh_from_db()
    assert (tenant.status, other_tenant.status) == ("SUSPENDED", "NEW")

    act(client, "reactivate_tenants", tenant)
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.HELD
    act(client, "suspend_tenants", tenant)
    page = act(client, "reactivate_and_release", tenant).content.decode()
    assert "Acme Bakery: reactivated, 1 held message(s) queued again" in page
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.QUEUED


def test_a_tenant_user_cannot_use_the_actions(client, tenant, tenant_user):
    client.force_login(tenant_user)
    act(client, "suspend_tenants", tenant)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.NEW
