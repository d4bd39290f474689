"""The staff's admin: every changelist renders, and its query count stays flat as rows grow."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants import services
from tenants.models import MessageLog, SetupRequest, WorkerEvent
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_create
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue

CHANGELISTS = [
    "tenants_tenant",
    "tenants_workerprocess",
    "tenants_whatsappsession",
    "tenants_messagelog",
    "tenants_workerevent",
    "tenants_setuprequest",
    "tenants_user",
    "workers_replyrule",
    "workers_outboundmessage",
    "tenants_tenantapikey",
    "tenants_webhookendpoint",
    "tenants_webhookdelivery",
]


def add_tenants(count: int) -> None:
    for i in range(count):
        tenant = services.tenant_create(name=f"Tenant {i:04d}")
        user = services.user_create_tenant_user(
            tenant=tenant, email=f"u{i}-{tenant.id}@x.test", password="pw-123456"
        )
        services.setup_request_create(tenant=tenant, user=user)
        services.worker_set_status(worker=tenant.worker, status="STARTING", pid=1000 + i)
        services.session_heartbeat(session=tenant.session)
        ReplyRule.objects.create(tenant=tenant, pattern="hi", reply_text="hello")
        outbound_enqueue(tenant=tenant, to_number="15551234567", text="queued")
        with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True, WEBHOOK_REQUIRE_HTTPS=False):
            endpoint_create(
                tenant=tenant, url=f"http://127.0.0.1:9/{i}", event_types=list(events.EVENT_TYPES)
            )
        for j in range(3):
            services.message_log_record(
                tenant=tenant,
                direction="IN",
                from_number=f"1555000{j}",
                to_number="me",
                text=f"message {j}",
                wa_message_id=f"false_{j}@c.us_{i}",
            )


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_it_keeps_queries_flat_as_rows_grow(client, staff_user, changelist):
    client.force_login(staff_user)
    url = reverse(f"admin:{changelist}_changelist")
    add_tenants(2)
    few = query_count(client, url)
    add_tenants(20)
    many = query_count(client, url)
    assert many == few


def test_it_shows_worker_session_heartbeat_and_message_count_per_tenant(client, staff_user):
    add_tenants(1)
    client.force_login(staff_user)
    page = client.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    assert "Tenant 0000" in page
    assert 'badge-info">Starting' in page
    assert " s ago" in page
    assert '<td class="field-message_count">3</td>' in page


def test_it_shows_the_qr_as_an_image_not_as_text(client, staff_user, tenant):
    services.session_record_qr(
        session=tenant.session, value="secret-ref,AAA,BBB,CCC", data_uri="data:image/png;base64,iVBORw0KGgo="
    )
    client.force_login(staff_user)
    page = client.get(
        reverse("admin:tenants_whatsappsession_change", args=[tenant.session.pk])
    ).content.decode()
    assert 'src="data:image/png;base64,iVBORw0KGgo=" alt="QR code" width="240" height="240">' in page
    assert "secret-ref" not in page


def test_it_shows_a_small_qr_in_the_session_list_only_while_waiting_for_a_scan(
    client, staff_user, tenant, other_tenant
):
    qr = "data:image/png;base64,iVBORw0KGgo="
    services.session_record_qr(session=tenant.session, value="secret-ref,AAA", data_uri=qr)
    services.session_record_qr(session=other_tenant.session, value="secret-ref,BBB", data_uri=qr)
    services.session_set_state(session=other_tenant.session, state="CONNECTED", reason="chat list shown")
    client.force_login(staff_user)
    page = client.get(reverse("admin:tenants_whatsappsession_changelist")).content.decode()
    assert page.count(f'<img class="qr-code" src="{qr}" alt="QR code" width="64" height="64">') == 1
    assert '<td class="field-qr_thumbnail">-</td>' in page  # the connected one
    assert "secret-ref" not in page


LONG_TEXT = "<b>Hello</b>, I would like to order a very large birthday cake with strawberries"


def test_it_cuts_long_texts_in_lists_short_with_the_whole_on_hover(client, staff_user):
    tenant = services.tenant_create(name="A" * 150 + " & Sons")
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="15551234567", to_number="", text=LONG_TEXT
    )
    client.force_login(staff_user)
    page = client.get(reverse("admin:tenants_messagelog_changelist")).content.decode()
    assert (
        '<span class="cell-text" title="&lt;b&gt;Hello&lt;/b&gt;, I would like to order a very large '
        'birthday cake with strawberries">&lt;b&gt;Hello&lt;/b&gt;, I would like to o…</span>'
    ) in page
    assert f'<span class="cell-text" title="{"A" * 150} &amp; Sons">{"A" * 27}…</span>' in page
    assert "<b>Hello" not in page


def test_staff_see_whatsapps_ack_of_each_sent_message_and_a_send_not_confirmed(client, staff_user, tenant):
    log, _ = services.message_log_record(
        tenant=tenant, direction="OUT", from_number="", to_number="15551234567", text="read it"
    )
    MessageLog.objects.filter(pk=log.pk).update(ack=3)
    message, _ = outbound_enqueue(tenant=tenant, to_number="15557654321", text="no ack")
    OutboundMessage.objects.filter(pk=message.pk).update(status="UNCONFIRMED")
    client.force_login(staff_user)
    logs = client.get(reverse("admin:tenants_messagelog_changelist")).content.decode()
    assert '<td class="field-ack_label">Read</td>' in logs
    queue = client.get(reverse("admin:workers_outboundmessage_changelist")).content.decode()
    assert '<span class="badge badge-warn">Not confirmed</span>' in queue


def test_it_says_waiting_for_qr_scan_for_a_starting_worker_showing_a_code(client, staff_user, tenant):
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=7)
    services.session_record_qr(session=tenant.session, value="secret-ref", data_uri="data:image/png;base64,")
    client.force_login(staff_user)
    for changelist in ("tenants_workerprocess", "tenants_tenant"):
        page = client.get(reverse(f"admin:{changelist}_changelist")).content.decode()
        assert '<span class="badge badge-info">Waiting for QR scan</span>' in page, changelist
        assert ">Starting</span>" not in page, changelist


def test_it_says_in_the_worker_list_that_no_code_was_scanned_in_time(client, staff_user, tenant):
    reason = "QR code not scanned after 6 codes; start the worker again for new codes"
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=7)
    services.worker_set_status(worker=tenant.worker, status="STOPPING", reason=reason)
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason=reason)
    client.force_login(staff_user)
    page = client.get(reverse("admin:tenants_workerprocess_changelist")).content.decode()
    assert '<span class="badge badge-warn">Stopped</span>' in page
    assert '<span class="cell-text">No code was scanned in time</span>' in page
    tenants = client.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    assert '<span class="badge badge-warn">Stopped: no code was scanned in time</span>' in tenants


def test_it_approves_setup_requests_from_the_action(client, staff_user, tenant, tenant_user):
    request = services.setup_request_create(tenant=tenant, user=tenant_user)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:tenants_setuprequest_changelist"),
        {"action": "approve", "_selected_action": [str(request.pk)]},
        follow=True,
    )
    assert "1 setup request(s) marked approved" in response.content.decode()
    request.refresh_from_db()
    assert request.status == SetupRequest.Status.APPROVED
    assert WorkerEvent.objects.filter(tenant=tenant, kind="SETUP_REQUEST").count() == 1


def test_it_says_why_a_decision_is_refused(client, staff_user, tenant, tenant_user):
    request = services.setup_request_create(tenant=tenant, user=tenant_user)
    services.setup_request_decide(setup_request=request, status="REJECTED", decided_by=staff_user)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:tenants_setuprequest_changelist"),
        {"action": "approve", "_selected_action": [str(request.pk)]},
        follow=True,
    )
    assert "A rejected setup request cannot become APPROVED" in response.content.decode()


def test_it_keeps_message_logs_read_only(client, staff_user, tenant):
    log, _ = services.message_log_record(
        tenant=tenant, direction="IN", from_number="1", to_number="2", text="x"
    )
    client.force_login(staff_user)
    assert client.get(reverse("admin:tenants_messagelog_add")).status_code == 403
    assert (
        client.post(reverse("admin:tenants_messagelog_delete", args=[log.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert MessageLog.objects.filter(pk=log.pk).exists()


def test_it_creates_a_tenant_with_its_worker_and_session(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("admin:tenants_tenant_add"), {"name": "Made In Admin"}, follow=True)
    assert response.status_code == 200
    from tenants.models import Tenant

    tenant = Tenant.objects.get(name="Made In Admin")
    assert tenant.worker.process_name == f"wa-worker-{tenant.id}"
    assert tenant.session.state == "STOPPED"


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_it_keeps_tenant_users_out_of_the_admin(client, tenant_user, changelist):
    client.force_login(tenant_user)
    response = client.get(reverse(f"admin:{changelist}_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
