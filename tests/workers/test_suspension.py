"""The suspension service: what a suspended tenant's account still does, and what it stops."""

import pytest

from tenants.models import Tenant
from tests.helpers.workers import incoming
from workers import suspension
from workers.models import OutboundMessage, ReplyRule
from workers.services import TenantSuspended, inbound_message_handle, outbound_enqueue


@pytest.fixture(autouse=True)
def no_supervisord(settings, tmp_path):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d"]


def test_it_says_when_supervisord_could_not_stop_the_worker(tenant, tmp_path):
    result = suspension.tenant_suspend(tenant=tenant, by="staff@platform.test")
    assert not result.worker_stopped
    assert f"unix://{tmp_path}/none.sock cannot be reached" in result.worker_error
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED  # the worker stops itself (runtime)


def test_it_holds_only_the_queued_messages_of_the_suspended_tenant(tenant, other_tenant):
    outbound_enqueue(tenant=tenant, to_number="+15551230001", text="queued")
    sent, _ = outbound_enqueue(tenant=tenant, to_number="+15551230001", text="sent")
    OutboundMessage.objects.filter(pk=sent.pk).update(status=OutboundMessage.Status.SENT)
    outbound_enqueue(tenant=other_tenant, to_number="+15551230001", text="other")

    assert suspension.tenant_suspend(tenant=tenant, by="staff").held == 1
    statuses = dict(OutboundMessage.objects.values_list("text", "status"))
    assert statuses == {"queued": "HELD", "sent": "SENT", "other": "QUEUED"}


def test_a_suspended_tenant_can_queue_nothing(tenant):
    suspension.tenant_suspend(tenant=tenant, by="staff")
    with pytest.raises(TenantSuspended, match="This account is suspended"):
        outbound_enqueue(tenant=tenant, to_number="+15551230001", text="hello")
    assert not OutboundMessage.objects.exists()


def test_its_rules_do_not_answer_but_the_message_is_logged(tenant):
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8")
    stale = Tenant.objects.get(pk=tenant.pk)  # as old as a worker's copy
    suspension.tenant_suspend(tenant=tenant, by="staff")
    result = inbound_message_handle(
        tenant=stale,
        message=incoming(wa_message_id="false_15551230001@c.us_A1", from_number="15551230001", text="hours?"),
    )
    assert result.created and result.reply is None
    assert not OutboundMessage.objects.exists()


def test_releasing_held_messages_of_a_still_suspended_tenant_does_nothing(tenant):
    outbound_enqueue(tenant=tenant, to_number="+15551230001", text="queued")
    suspension.tenant_suspend(tenant=tenant, by="staff")
    assert suspension.outbound_release_held(tenant=tenant) == 0
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.HELD
