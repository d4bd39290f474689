"""The portal's Webhooks pages: endpoints added, edited, switched, rotated, deleted; their
deliveries listed, filtered, paged, opened and replayed; and only by the tenant's own users."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tenants import services
from tenants.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.selectors import DELIVERY_PAGE_SIZE
from tenants.webhooks.services import endpoint_create
from tests.helpers.receiver import Reply
from workers.webhooks import dispatcher

State = WebhookDelivery.State
LIST = reverse("portal:webhooks")
DELIVERIES = reverse("portal:webhook_deliveries")


def page_of(endpoint: WebhookEndpoint) -> str:
    return reverse("portal:webhook", args=[endpoint.id])


def emit(
    endpoint: WebhookEndpoint, event_type: str = events.MESSAGE_RECEIVED, text: str = "hi"
) -> WebhookDelivery:
    event = webhook_emit(tenant_id=endpoint.tenant_id, event_type=event_type, data={"text": text})
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def set_state(delivery: WebhookDelivery, state: str, **fields) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state, **fields)


def reread(row):
    return type(row).objects.get(pk=row.pk)


def delivery_ids(body: str) -> list[int]:
    return [int(number) for number in re.findall(r'data-delivery="(\d+)"', body)]


def flash_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def field_error(body: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="id_{field}_error">([^<]*)</p>', body)
    return found.group(1) if found else ""


def local_datetime(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


# --- The list and a new endpoint -----------------------------------------------------------


def test_it_links_webhooks_in_the_portal_navigation(owner):
    body = owner.get(reverse("portal:dashboard")).content.decode()
    assert f'<a href="{LIST}">Webhooks</a>' in body
    assert f'<a href="{LIST}" aria-current="page">Webhooks</a>' in owner.get(LIST).content.decode()


def test_it_offers_every_event_type_with_its_description_all_ticked(owner):
    body = owner.get(LIST).content.decode()
    for name, description in events.EVENT_TYPES.items():
        box = re.search(rf'<input type="checkbox" name="event_types" value="{re.escape(name)}"[^>]*>', body)
        assert box and "checked" in box.group(0), name
        assert escape(description) in body
    assert "No endpoints yet." in body


def test_it_adds_an_endpoint_and_shows_its_signing_secret_with_how_to_verify(owner, tenant, receiver):
    response = owner.post(
        LIST,
        {
            "url": receiver.url,
            "description": "order bot",
            "event_types": [events.MESSAGE_RECEIVED, events.MESSAGE_ACK],
        },
    )
    assert response.status_code == 200
    [endpoint] = WebhookEndpoint.objects.filter(tenant=tenant)
    assert endpoint.url == receiver.url and endpoint.description == "order bot"
    assert endpoint.event_types == [events.MESSAGE_RECEIVED, events.MESSAGE_ACK]
    body = response.content.decode()
    assert f'<code class="secret" id="signing-secret" data-signing-secret>{endpoint.secret}</code>' in body
    assert "Webhook(secret).verify(body, headers)" in body
    assert response["Cache-Control"] == "no-store"
    assert "Endpoint “order bot” added" in flash_of(response)
    listed = owner.get(LIST).content.decode()
    assert receiver.url in listed and "message.received, message.ack" in listed
    assert endpoint.secret not in listed  # shown after adding, then on the endpoint's page only


@pytest.mark.parametrize(
    ("url", "private_ok", "error"),
    [
        ("http://203.0.113.9/hooks", False, "The URL must use https://, so that events travel encrypted."),
        ("https://10.0.0.5/hooks", False, "10.0.0.5 resolves to 10.0.0.5, a private, loopback or link-local"),
        ("https://169.254.169.254/latest", True, "a cloud metadata address: never allowed"),
        ("not a url", True, "The URL must start with https:// and name a host."),
    ],
)
def test_it_refuses_a_url_it_may_not_send_to_beside_the_field(
    owner, tenant, settings, url, private_ok, error
):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = private_ok
    response = owner.post(LIST, {"url": url, "event_types": [events.MESSAGE_RECEIVED]})
    assert response.status_code == 400
    assert error in field_error(response.content.decode(), "url")
    assert not WebhookEndpoint.objects.filter(tenant=tenant).exists()


def test_it_refuses_an_endpoint_with_no_event_and_keeps_what_was_typed(owner, tenant, receiver):
    response = owner.post(LIST, {"url": receiver.url, "description": "order bot"})
    assert response.status_code == 400
    body = response.content.decode()
    assert field_error(body, "event_types") == "Choose at least one event."
    assert f'value="{receiver.url}"' in body
    assert not WebhookEndpoint.objects.filter(tenant=tenant).exists()


# --- One endpoint --------------------------------------------------------------------------


def test_it_shows_the_endpoint_with_its_secret_behind_a_details(owner, endpoint):
    response = owner.get(page_of(endpoint))
    body = response.content.decode()
    assert re.search(
        r'<details class="secret-details">\s*<summary>Show signing secret</summary>\s*<p class="copy-row">'
        rf'<code class="secret" id="signing-secret" data-signing-secret>{re.escape(endpoint.secret)}</code>',
        body,
    )
    assert response["Cache-Control"] == "no-store"
    assert '<span class="badge tone-ok" data-endpoint-state>Enabled</span>' in body


def test_it_saves_an_edit(owner, endpoint, receiver):
    response = owner.post(
        page_of(endpoint),
        {"url": receiver.url + "/v2", "description": "new bot", "event_types": [events.SESSION_STATUS]},
        follow=True,
    )
    assert "Endpoint “new bot” saved." in flash_of(response)
    endpoint = reread(endpoint)
    assert endpoint.url == receiver.url + "/v2"
    assert endpoint.description == "new bot" and endpoint.event_types == [events.SESSION_STATUS]


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"url": "https://192.168.1.20/hooks"}, "url", "a private, loopback or link-local address"),
        ({"event_types": []}, "event_types", "Choose at least one event."),
    ],
)
def test_it_refuses_a_bad_edit_and_changes_nothing(owner, endpoint, settings, fields, field, error):
    if field == "url":
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    before = reread(endpoint)
    data = {"url": endpoint.url, "description": "changed", "event_types": endpoint.event_types, **fields}
    response = owner.post(page_of(endpoint), data)
    assert response.status_code == 400
    assert error in field_error(response.content.decode(), field)
    after = reread(endpoint)
    assert (after.url, after.description, after.event_types) == (
        before.url,
        before.description,
        before.event_types,
    )


def test_it_disables_and_enables_an_endpoint(owner, endpoint):
    switch = reverse("portal:webhook_enabled", args=[endpoint.id])
    response = owner.post(switch, {"enabled": "0"}, follow=True)
    assert not reread(endpoint).enabled
    assert "disabled: it gets no new events" in flash_of(response)
    assert (
        '<span class="badge tone-off" data-endpoint-state>Disabled by you</span>' in response.content.decode()
    )
    response = owner.post(switch, {"enabled": "1"}, follow=True)
    assert reread(endpoint).enabled
    assert "enabled: events are sent to it again" in flash_of(response)


def test_it_shows_a_paused_endpoint_with_its_reason_and_enables_it_from_the_list(owner, endpoint):
    reason = "It failed every attempt for 72 hours; events are kept and sent when you enable it again."
    since = timezone.now() - timedelta(hours=73)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=timezone.now(), paused_reason=reason, failing_since=since
    )
    waiting = emit(endpoint)
    set_state(waiting, State.RETRYING, next_attempt_at=timezone.now() + timedelta(hours=5))
    body = owner.get(LIST).content.decode()
    assert "Paused after failing" in body and reason in body
    assert timezone.localtime(since).strftime("%a %-d %b, %H:%M") in body
    response = owner.post(
        reverse("portal:webhook_enabled", args=[endpoint.id]), {"enabled": "1", "back": "list"}, follow=True
    )
    assert response.redirect_chain[-1][0] == LIST
    endpoint = reread(endpoint)
    assert endpoint.sending and endpoint.paused_at is None and endpoint.failing_since is None
    assert reread(waiting).next_attempt_at <= timezone.now()  # what waited goes now
    assert '<span class="badge tone-ok" data-endpoint-state>Enabled</span>' in response.content.decode()


def test_it_refuses_a_switch_that_does_not_say_which_way(owner, endpoint):
    assert owner.post(reverse("portal:webhook_enabled", args=[endpoint.id])).status_code == 400
    assert reread(endpoint).enabled


def test_it_rotates_the_secret_after_asking_and_says_until_when_the_old_one_works(owner, endpoint):
    rotate = reverse("portal:webhook_rotate", args=[endpoint.id])
    confirm = owner.get(rotate).content.decode()
    assert "Rotate the signing secret?" in confirm
    assert reread(endpoint).secret == endpoint.secret  # asking changes nothing
    response = owner.post(rotate, follow=True)
    rotated = reread(endpoint)
    assert rotated.secret != endpoint.secret and rotated.previous_secret == endpoint.secret
    until = timezone.localtime(rotated.previous_secret_expires_at).strftime("%a %-d %b, %H:%M")
    assert f"The old one keeps working for 24 h, until {until}" in flash_of(response)
    body = response.content.decode()
    assert f"The old secret keeps working for 24 h after the rotation, until {until}" in body
    assert rotated.secret in body


def test_it_deletes_an_endpoint_after_asking(owner, endpoint):
    delete = reverse("portal:webhook_delete", args=[endpoint.id])
    assert "Delete this endpoint?" in owner.get(delete).content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    response = owner.post(delete, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert f"Endpoint “{endpoint}” deleted." in flash_of(response)


def test_it_sends_a_test_event_that_shows_in_the_deliveries(owner, endpoint, receiver):
    response = owner.post(reverse("portal:webhook_test", args=[endpoint.id]), follow=True)
    assert "A test event is queued" in flash_of(response)
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.event_type == events.TEST
    body = response.content.decode()
    assert delivery_ids(body) == [delivery.pk]
    assert "<code>webhook.test</code>" in body and ">Waiting</span>" in body
    dispatcher.run_once()
    assert [got.json["type"] for got in receiver.received] == [events.TEST]
    body = owner.get(page_of(endpoint)).content.decode()
    assert ">Delivered</span>" in body and "HTTP 200" in body


# --- Deliveries ----------------------------------------------------------------------------


def test_it_shows_a_delivery_with_each_attempt_and_its_body_escaped(owner, endpoint, receiver):
    receiver.default = Reply(status=500, body=b"<script>alert('owned')</script>")
    delivery = emit(endpoint, text="<b>fresh</b> bread?")
    dispatcher.run_once()
    retry_at = timezone.localtime(reread(delivery).next_attempt_at).strftime("%H:%M")
    # "at 14:05" today, "at Tue 3 Nov, 00:00" just after midnight
    response = owner.get(reverse("portal:webhook_delivery", args=[delivery.pk]))
    body = response.content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in body
    assert "<b>fresh</b>" not in body and "&lt;b&gt;fresh&lt;/b&gt; bread?" in body
    assert "\n  &quot;type&quot;: &quot;message.received&quot;,\n" in body  # pretty JSON
    assert "HTTP 500" in body and " ms</td>" in body
    assert re.search(rf"Failed, retrying at (?:[^<]*, )?{retry_at}<", body)
    assert reread(delivery).event.webhook_id in body


def test_it_replays_one_delivery(owner, endpoint, receiver):
    receiver.default = Reply(status=400, body=b"no")
    delivery = emit(endpoint)
    dispatcher.run_once()
    assert reread(delivery).state == State.DEAD
    response = owner.post(reverse("portal:webhook_delivery_replay", args=[delivery.pk]), follow=True)
    assert "Queued again, with the same webhook-id" in flash_of(response)
    replayed = reread(delivery)
    assert replayed.state == State.PENDING and replayed.attempts == 0
    assert ">Waiting</span>" in response.content.decode()
    receiver.default = Reply()
    dispatcher.run_once()
    assert reread(delivery).state == State.SUCCEEDED
    assert len({got.webhook_id for got in receiver.received}) == 1


def test_it_replays_every_failed_or_dead_delivery_since_a_time(owner, endpoint, tenant, receiver):
    other = endpoint_create(tenant=tenant, url=receiver.url + "/other", event_types=[events.MESSAGE_RECEIVED])
    old_dead, dead, retrying, delivered = (emit(endpoint) for _ in range(4))
    WebhookDelivery.objects.filter(endpoint=other).update(state=State.DEAD)
    set_state(old_dead, State.DEAD, created_at=timezone.now() - timedelta(days=3))
    set_state(dead, State.DEAD)
    set_state(retrying, State.RETRYING, next_attempt_at=timezone.now() + timedelta(hours=2))
    set_state(delivered, State.SUCCEEDED)
    since = local_datetime(timezone.now() - timedelta(days=1))
    replay = reverse("portal:webhook_replay_failed", args=[endpoint.id])
    response = owner.post(replay, {"since": since}, follow=True)
    assert "2 deliveries queued again" in flash_of(response)
    states = {d.pk: d.state for d in WebhookDelivery.objects.filter(endpoint=endpoint)}
    assert states == {
        old_dead.pk: State.DEAD,
        dead.pk: State.PENDING,
        retrying.pk: State.PENDING,
        delivered.pk: State.SUCCEEDED,
    }
    assert set(WebhookDelivery.objects.filter(endpoint=other).values_list("state", flat=True)) == {State.DEAD}
    response = owner.post(reverse("portal:webhook_deliveries_replay_failed"), {"since": since}, follow=True)
    assert "4 deliveries queued again" in flash_of(response)  # every endpoint's (4 dead emitted to other)


def test_it_says_when_there_was_nothing_to_replay(owner, endpoint):
    set_state(emit(endpoint), State.SUCCEEDED)
    response = owner.post(
        reverse("portal:webhook_deliveries_replay_failed"),
        {"since": local_datetime(timezone.now())},
        follow=True,
    )
    assert "nothing was queued again" in flash_of(response)


@pytest.mark.parametrize("since", ["", "yesterday", "2026-13-45T99:00"])
def test_it_refuses_a_replay_without_a_time_beside_the_field(owner, endpoint, since):
    dead = emit(endpoint)
    set_state(dead, State.DEAD)
    for url in (
        reverse("portal:webhook_replay_failed", args=[endpoint.id]),
        reverse("portal:webhook_deliveries_replay_failed"),
    ):
        response = owner.post(url, {"since": since})
        assert response.status_code == 400
        assert field_error(response.content.decode(), "since") in {
            "Say since when.",
            "Give a date and a time.",
        }
    assert reread(dead).state == State.DEAD


def test_it_filters_deliveries_by_state_and_event(owner, endpoint):
    received, ack, dead_ack = (
        emit(endpoint),
        emit(endpoint, events.MESSAGE_ACK),
        emit(endpoint, events.MESSAGE_ACK),
    )
    set_state(dead_ack, State.DEAD)
    for url in (page_of(endpoint), DELIVERIES):
        assert delivery_ids(owner.get(url).content.decode()) == [dead_ack.pk, ack.pk, received.pk]
        assert delivery_ids(owner.get(url, {"state": "dead"}).content.decode()) == [dead_ack.pk]
        assert delivery_ids(owner.get(url, {"event": "message.ack"}).content.decode()) == [
            dead_ack.pk,
            ack.pk,
        ]
        assert delivery_ids(
            owner.get(url, {"event": "message.ack", "state": "pending"}).content.decode()
        ) == [ack.pk]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"state": "exploded"}, "state must be one of pending, retrying, succeeded, dead"),
        ({"event": "message.deleted"}, "event must be one of message.received"),
        ({"before": "yesterday"}, "before must be the next_cursor of a page"),
    ],
)
def test_it_says_what_is_wrong_with_a_bad_filter(owner, endpoint, query, error):
    emit(endpoint)
    for url in (page_of(endpoint), DELIVERIES):
        response = owner.get(url, query)
        assert response.status_code == 400
        body = response.content.decode()
        assert "We couldn't show those deliveries." in body and error in body
        assert delivery_ids(body) == []


def test_it_pages_to_older_deliveries_without_repeating_any(owner, endpoint):
    made = [emit(endpoint, text=str(n)).pk for n in range(DELIVERY_PAGE_SIZE + 7)]
    for url in (page_of(endpoint), DELIVERIES):
        body = owner.get(url).content.decode()
        first = delivery_ids(body)
        assert first == made[::-1][:DELIVERY_PAGE_SIZE]
        older = re.search(r'<a class="button button-quiet" rel="next" href="([^"]+)">Older</a>', body)
        assert older
        body = owner.get(older.group(1).replace("&amp;", "&")).content.decode()
        second = delivery_ids(body)
        assert second == made[::-1][DELIVERY_PAGE_SIZE:]
        assert not set(first) & set(second)
        assert 'rel="next"' not in body and ">Newest</a>" in body


def test_it_keeps_the_filter_on_the_older_link(owner, endpoint):
    acks = [emit(endpoint, events.MESSAGE_ACK).pk for _ in range(DELIVERY_PAGE_SIZE + 1)]
    emit(endpoint)
    body = owner.get(DELIVERIES, {"event": "message.ack"}).content.decode()
    older = re.search(r'rel="next" href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert delivery_ids(owner.get(older).content.decode()) == [acks[0]]


# --- Who may see and do what ---------------------------------------------------------------


@pytest.fixture
def acme_delivery(acme_endpoint) -> WebhookDelivery:
    delivery = emit(acme_endpoint, text="acme's secret order")
    set_state(delivery, State.DEAD)
    return delivery


def endpoint_pages(endpoint: WebhookEndpoint) -> list[str]:
    return [
        reverse(f"portal:{name}", args=[endpoint.id])
        for name in ("webhook", "webhook_rotate", "webhook_delete")
    ]


def endpoint_posts(endpoint: WebhookEndpoint) -> list[tuple[str, dict]]:
    since = {"since": local_datetime(timezone.now() - timedelta(days=7))}
    edit = {"url": "http://127.0.0.1:9/taken", "description": "taken", "event_types": [events.MESSAGE_ACK]}
    return [
        (reverse("portal:webhook", args=[endpoint.id]), edit),
        (reverse("portal:webhook_enabled", args=[endpoint.id]), {"enabled": "0"}),
        (reverse("portal:webhook_rotate", args=[endpoint.id]), {}),
        (reverse("portal:webhook_delete", args=[endpoint.id]), {}),
        (reverse("portal:webhook_test", args=[endpoint.id]), {}),
        (reverse("portal:webhook_replay_failed", args=[endpoint.id]), since),
    ]


def snapshot(endpoint: WebhookEndpoint) -> list:
    row = reread(endpoint)
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("id")
        .values_list("id", "state", "attempts")
    )
    return [row.url, row.description, row.event_types, row.enabled, row.secret, list(deliveries)]


def test_it_gives_another_tenants_endpoint_and_delivery_ids_a_404_and_changes_nothing(
    intruder, acme_endpoint, acme_delivery
):
    before = snapshot(acme_endpoint)
    delivery_page = reverse("portal:webhook_delivery", args=[acme_delivery.pk])
    for url in [*endpoint_pages(acme_endpoint), delivery_page]:
        assert intruder.get(url).status_code == 404, url
    for url, data in endpoint_posts(acme_endpoint):
        assert intruder.post(url, data).status_code == 404, url
    assert (
        intruder.post(reverse("portal:webhook_delivery_replay", args=[acme_delivery.pk])).status_code == 404
    )
    assert snapshot(acme_endpoint) == before


def test_it_shows_another_tenant_none_of_its_endpoints_or_deliveries(intruder, acme_endpoint, acme_delivery):
    for url in (LIST, DELIVERIES):
        body = intruder.get(url).content.decode()
        assert "acme bot" not in body and acme_endpoint.url not in body and delivery_ids(body) == []
    since = local_datetime(timezone.now() - timedelta(days=7))
    assert "nothing was queued again" in flash_of(
        intruder.post(reverse("portal:webhook_deliveries_replay_failed"), {"since": since}, follow=True)
    )
    assert reread(acme_delivery).state == State.DEAD


def all_urls(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> list[tuple[str, str, dict]]:
    gets = [
        LIST,
        DELIVERIES,
        *endpoint_pages(endpoint),
        reverse("portal:webhook_delivery", args=[delivery.pk]),
    ]
    posts = [
        (LIST, {"url": "http://127.0.0.1:9/x", "event_types": [events.MESSAGE_ACK]}),
        (reverse("portal:webhook_deliveries_replay_failed"), {"since": "2020-01-01T00:00"}),
        (reverse("portal:webhook_delivery_replay", args=[delivery.pk]), {}),
        *endpoint_posts(endpoint),
    ]
    return [("get", url, {}) for url in gets] + [("post", url, data) for url, data in posts]


def test_it_sends_anonymous_visitors_to_sign_in(client, acme_endpoint, acme_delivery):
    before = snapshot(acme_endpoint)
    for method, url, data in all_urls(acme_endpoint, acme_delivery):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{reverse('portal:login')}?next="), url
    assert snapshot(acme_endpoint) == before
    assert WebhookEndpoint.objects.count() == 1


def test_it_sends_staff_to_the_admin(client, staff_user, acme_endpoint, acme_delivery):
    client.force_login(staff_user)
    before = snapshot(acme_endpoint)
    for method, url, data in all_urls(acme_endpoint, acme_delivery):
        response = getattr(client, method)(url, data)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    assert snapshot(acme_endpoint) == before


def test_it_refuses_a_post_without_its_csrf_token(tenant_user, acme_endpoint, acme_delivery):
    strict = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")
    strict.force_login(tenant_user)
    before = snapshot(acme_endpoint)
    for method, url, data in all_urls(acme_endpoint, acme_delivery):
        if method == "post":
            assert strict.post(url, data).status_code == 403, url
    assert snapshot(acme_endpoint) == before
    assert WebhookEndpoint.objects.count() == 1


def test_it_shows_the_suspension_banner_on_the_webhooks_pages(owner, tenant, endpoint):
    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="suspended by staff@x.test")
    for url in (LIST, DELIVERIES, page_of(endpoint)):
        assert "data-suspended" in owner.get(url).content.decode()


def test_a_delivery_waiting_for_an_earlier_one_of_its_chat_says_so(owner, endpoint, tenant):
    def in_chat(text: str) -> WebhookDelivery:
        event = webhook_emit(
            tenant_id=tenant.id, event_type=events.MESSAGE_RECEIVED, data={"text": text}, order_key="chat:1"
        )
        return WebhookDelivery.objects.get(event=event, endpoint=endpoint)

    first, second = in_chat("first"), in_chat("second")
    set_state(first, State.RETRYING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    words = "Waiting for an earlier event of its chat"
    assert owner.get(DELIVERIES).content.decode().count(words) == 1
    assert words in owner.get(reverse("portal:webhook_delivery", args=[second.pk])).content.decode()
    set_state(first, State.SUCCEEDED)
    assert words not in owner.get(DELIVERIES).content.decode()
