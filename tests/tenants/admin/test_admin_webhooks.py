"""Staff manage tenants' webhook endpoints in the admin and see and replay every delivery,
through the same rules as the portal, never seeing a signing secret."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tenants.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_create
from tests.helpers.receiver import WebhookReceiver
from workers.webhooks import dispatcher

State = WebhookDelivery.State
ENDPOINTS = reverse("admin:tenants_webhookendpoint_changelist")
DELIVERIES = reverse("admin:tenants_webhookdelivery_changelist")


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def endpoint(acme_endpoint) -> WebhookEndpoint:
    return acme_endpoint


def emit(endpoint: WebhookEndpoint, text: str = "hi") -> WebhookDelivery:
    event = webhook_emit(
        tenant_id=endpoint.tenant_id, event_type=events.MESSAGE_RECEIVED, data={"text": text}
    )
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def action(client, url: str, name: str, rows) -> object:
    return client.post(url, {"action": name, "_selected_action": [str(row.pk) for row in rows]}, follow=True)


def test_staff_add_an_endpoint_for_a_tenant_and_the_url_rule_is_the_portals(staff, tenant, settings):
    form = {"tenant": str(tenant.pk), "url": "http://shop.example/hook", "event_types": ["message.received"]}
    refused = staff.post(reverse("admin:tenants_webhookendpoint_add"), {**form, "enabled": "on"})
    assert refused.status_code == 200  # the form again, with the reason
    assert "The URL must use https://, so that events travel encrypted." in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    staff.post(
        reverse("admin:tenants_webhookendpoint_add"), {**form, "url": "http://127.0.0.1:9/h", "enabled": "on"}
    )
    created = WebhookEndpoint.objects.get()
    assert (created.tenant, created.url, created.event_types) == (
        tenant,
        "http://127.0.0.1:9/h",
        ["message.received"],
    )
    assert created.secret.startswith("whsec_")


def test_no_page_of_the_admin_shows_a_signing_secret(staff, endpoint):
    emit(endpoint)
    delivery = WebhookDelivery.objects.get()
    pages = [
        ENDPOINTS,
        reverse("admin:tenants_webhookendpoint_change", args=[endpoint.pk]),
        DELIVERIES,
        reverse("admin:tenants_webhookdelivery_change", args=[delivery.pk]),
    ]
    for page in pages:
        response = staff.get(page)
        assert response.status_code == 200, page
        assert endpoint.secret not in response.content.decode(), page
        assert "whsec_" not in response.content.decode(), page


def test_the_endpoint_list_says_its_state_and_what_waits(staff, endpoint, tenant, local_urls):
    paused = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/p", event_types=[events.MESSAGE_RECEIVED])
    WebhookEndpoint.objects.filter(pk=paused.pk).update(
        paused_at=timezone.now(), paused_reason="HTTP 500 for 72 h"
    )
    emit(endpoint)
    emit(endpoint)
    body = staff.get(ENDPOINTS).content.decode()
    assert "Enabled" in body and "Paused after failing" in body and "HTTP 500 for 72 h" in body
    assert '<td class="field-waiting">2</td>' in body


def test_staff_change_an_endpoint_through_the_same_rule(staff, endpoint):
    url = reverse("admin:tenants_webhookendpoint_change", args=[endpoint.pk])
    staff.post(
        url, {"url": endpoint.url, "description": "orders", "event_types": ["message.ack", "session.status"]}
    )
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.event_types, endpoint.enabled) == (
        "orders",
        ["message.ack", "session.status"],
        False,  # the box was not ticked
    )
    refused = staff.post(url, {"url": "ftp://x", "event_types": ["message.ack"], "enabled": "on"})
    assert refused.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/acme"


def test_the_actions_enable_resume_rotate_and_test(staff, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), paused_reason="failing")
    old_secret = endpoint.secret
    action(staff, ENDPOINTS, "enable", [endpoint])
    endpoint.refresh_from_db()
    assert endpoint.sending
    action(staff, ENDPOINTS, "rotate_secret", [endpoint])
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.previous_secret == old_secret
    action(staff, ENDPOINTS, "send_test_event", [endpoint])
    assert WebhookDelivery.objects.get(endpoint=endpoint).event_type == events.TEST
    action(staff, ENDPOINTS, "disable", [endpoint])
    endpoint.refresh_from_db()
    assert not endpoint.enabled


def test_a_delivery_shows_its_body_escaped_and_each_attempt(staff, tenant, local_urls):
    receiver = WebhookReceiver()
    try:
        endpoint = endpoint_create(tenant=tenant, url=receiver.url, event_types=[events.MESSAGE_RECEIVED])
        receiver.default.status, receiver.default.body = 503, b"<b>down for baking</b>"
        delivery = emit(endpoint, text="<script>alert(1)</script>")
        dispatcher.run_once()
    finally:
        receiver.stop()
    body = staff.get(reverse("admin:tenants_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert delivery.webhook_id in body
    assert "503" in body and "&lt;b&gt;down for baking&lt;/b&gt;" in body
    assert "Failed, will retry" in body


def test_replay_sends_dead_deliveries_again_and_search_finds_one_by_webhook_id(staff, endpoint):
    dead, delivered = emit(endpoint), emit(endpoint, "b")
    WebhookDelivery.objects.filter(pk=dead.pk).update(state=State.DEAD, attempts=8)
    WebhookDelivery.objects.filter(pk=delivered.pk).update(state=State.SUCCEEDED)
    action(staff, DELIVERIES, "replay", [dead])
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == (State.PENDING, 0)
    assert WebhookDelivery.objects.get(pk=delivered.pk).state == State.SUCCEEDED

    found = staff.get(DELIVERIES, {"q": dead.webhook_id}).context["cl"].result_list
    assert [row.pk for row in found] == [dead.pk]
    assert staff.get(DELIVERIES, {"q": "Acme"}).status_code == 200


def test_the_tenant_page_links_to_its_webhooks_and_the_lists_filter_by_tenant(
    staff, endpoint, other_tenant, local_urls
):
    theirs = endpoint_create(
        tenant=other_tenant, url="http://127.0.0.1:9/o", event_types=[events.MESSAGE_RECEIVED]
    )
    emit(endpoint)
    webhook_emit(tenant_id=other_tenant.id, event_type=events.MESSAGE_RECEIVED, data={})
    page = staff.get(reverse("admin:tenants_tenant_change", args=[endpoint.tenant_id])).content.decode()
    for listing in (ENDPOINTS, DELIVERIES):
        link = f"{listing}?tenant__id__exact={endpoint.tenant_id}"
        assert f'href="{link}"' in page
        rows = staff.get(link).context["cl"].result_list
        assert {row.tenant_id for row in rows} == {endpoint.tenant_id}
    assert theirs.pk not in [
        row.pk
        for row in staff.get(f"{ENDPOINTS}?tenant__id__exact={endpoint.tenant_id}").context["cl"].result_list
    ]


def test_deliveries_cannot_be_added_edited_or_deleted_by_hand(staff, endpoint):
    delivery = emit(endpoint)
    assert staff.get(reverse("admin:tenants_webhookdelivery_add")).status_code == 403
    assert (
        staff.post(
            reverse("admin:tenants_webhookdelivery_delete", args=[delivery.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()


def test_tenant_users_are_kept_out(client, tenant_user, endpoint):
    client.force_login(tenant_user)
    for page in (ENDPOINTS, DELIVERIES):
        response = client.get(page)
        assert response.status_code == 302 and "/login/" in response["Location"]
