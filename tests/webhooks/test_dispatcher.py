"""The dispatcher against a real receiver on 127.0.0.1: signed, retried as documented, recorded."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tenants.models import Alert, WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_rotate_secret, endpoint_update
from tests.helpers.receiver import Reply
from workers.webhooks import dispatcher

State = WebhookDelivery.State


def emit(endpoint, text: str = "hi", order_key: str = "") -> WebhookDelivery:
    event = webhook_emit(
        tenant_id=endpoint.tenant_id,
        event_type=events.MESSAGE_RECEIVED,
        data={"text": text},
        order_key=order_key,
    )
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def deliver_due() -> int:
    return dispatcher.run_once()


def reread(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=delivery.pk)


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_it_delivers_a_signed_event_that_the_standard_library_verifies(endpoint, receiver):
    delivery = emit(endpoint, "Do you have sourdough?")
    assert deliver_due() == 1
    [got] = receiver.received
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["data"]["text"] == "Do you have sourdough?"
    assert got.webhook_id == delivery.event.webhook_id
    assert got.headers["content-type"] == "application/json"
    delivery = reread(delivery)
    assert delivery.state == State.SUCCEEDED and delivery.delivered_at is not None
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok"


def test_a_forged_or_stale_signature_does_not_verify(endpoint, receiver):
    emit(endpoint)
    deliver_due()
    [got] = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace(b"hi", b"ho"), got.headers)


def test_after_a_rotation_both_secrets_verify_for_a_day_then_only_the_new_one(endpoint, receiver):
    old = endpoint.secret
    endpoint_rotate_secret(endpoint=endpoint)
    emit(endpoint)
    deliver_due()
    got = receiver.received[-1]
    Webhook(old).verify(got.body, got.headers)
    Webhook(endpoint.secret).verify(got.body, got.headers)

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    emit(endpoint)
    deliver_due()
    got = receiver.received[-1]
    Webhook(endpoint.secret).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


def test_a_server_error_is_retried_later_with_the_same_webhook_id(endpoint, receiver):
    receiver.replies = [Reply(status=503, body=b"busy")]
    delivery = emit(endpoint)
    before = timezone.now()
    deliver_due()
    delivery = reread(delivery)
    assert delivery.state == State.RETRYING
    assert delivery.last_status_code == 503
    # The first wait of the schedule (5 s), give or take its 20 % jitter.
    assert (
        before + timedelta(seconds=3.9) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=6.1)
    )
    assert deliver_due() == 0  # not due yet
    make_due(delivery)
    deliver_due()
    assert reread(delivery).state == State.SUCCEEDED
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id
    assert [a.status_code for a in delivery.attempt_log.all()] == [503, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_client_error_is_not_retried(endpoint, receiver, status):
    receiver.replies = [Reply(status=status, body=b"no such hook")]
    delivery = emit(endpoint)
    deliver_due()
    delivery = reread(delivery)
    assert delivery.state == State.DEAD
    assert delivery.last_error == f"HTTP {status}"
    assert delivery.attempt_log.get().response_excerpt == "no such hook"


@pytest.mark.parametrize("status", [408, 409, 425, 429])
def test_the_client_errors_that_mean_later_are_retried(endpoint, receiver, status):
    receiver.replies = [Reply(status=status)]
    delivery = emit(endpoint)
    deliver_due()
    assert reread(delivery).state == State.RETRYING


def test_retry_after_is_honoured(endpoint, receiver):
    receiver.replies = [Reply(status=429, headers={"Retry-After": "120"})]
    delivery = emit(endpoint)
    before = timezone.now()
    deliver_due()
    wait = reread(delivery).next_attempt_at - before
    assert timedelta(seconds=119) <= wait <= timedelta(seconds=122)


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.replies = [Reply(delay=3)]
    delivery = emit(endpoint)
    deliver_due()
    delivery = reread(delivery)
    assert delivery.state == State.RETRYING
    assert delivery.last_error == "no answer within 0.5 s"
    assert delivery.attempt_log.get().latency_ms < 3000


def test_a_redirect_is_not_followed(endpoint, receiver):
    receiver.replies = [Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})]
    delivery = emit(endpoint)
    deliver_due()
    assert [r.path for r in receiver.received] == ["/hooks"]  # one request, not two
    delivery = reread(delivery)
    assert delivery.state == State.RETRYING
    assert "redirect to http://169.254.169.254/latest/meta-data/ not followed" in delivery.last_error


def test_an_address_that_became_private_is_refused_at_delivery_time(endpoint, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # saved while allowed; the rule holds again now
    delivery = emit(endpoint)
    deliver_due()
    assert receiver.received == []
    delivery = reread(delivery)
    assert delivery.state == State.DEAD
    assert "127.0.0.1, a private, loopback or link-local address" in delivery.last_error


def test_a_receiver_that_is_down_is_retried(endpoint, receiver):
    receiver.stop()
    delivery = emit(endpoint)
    deliver_due()
    delivery = reread(delivery)
    assert delivery.state == State.RETRYING
    assert "could not connect to 127.0.0.1" in delivery.last_error


def test_after_the_last_attempt_of_the_schedule_a_delivery_is_dead_and_kept(endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [1, 1]
    receiver.default = Reply(status=500)
    delivery = emit(endpoint)
    for _ in range(3):
        make_due(delivery)
        deliver_due()
    delivery = reread(delivery)
    assert delivery.state == State.DEAD
    assert delivery.attempts == 3 and len(receiver.received) == 3
    make_due(delivery)
    assert deliver_due() == 0


def test_one_chats_events_arrive_in_order_even_when_the_first_needs_a_retry(endpoint, receiver):
    receiver.replies = [Reply(status=500)]
    first = emit(endpoint, "first", order_key="chat:1@c.us")
    second = emit(endpoint, "second", order_key="chat:1@c.us")
    other_chat = emit(endpoint, "elsewhere", order_key="chat:2@c.us")
    deliver_due()
    assert [r.json["data"]["text"] for r in receiver.received] == ["first", "elsewhere"]
    assert reread(second).state == State.PENDING  # held behind the first
    make_due(first)
    deliver_due()
    deliver_due()
    assert [r.json["data"]["text"] for r in receiver.received] == ["first", "elsewhere", "first", "second"]
    assert reread(other_chat).state == State.SUCCEEDED


def test_an_endpoint_failing_for_days_is_paused_once_and_resumes_with_what_waits(
    endpoint, receiver, settings, tenant_user, staff_user, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 72
    receiver.default = Reply(status=500)
    first = emit(endpoint)
    deliver_due()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=73))
    make_due(first)
    with django_capture_on_commit_callbacks(execute=True):
        deliver_due()
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None and "72 hours" in endpoint.paused_reason
    assert Alert.objects.filter(kind=Alert.Kind.WEBHOOK, tenant=endpoint.tenant).count() == 1
    assert [m.to for m in mail.outbox] == [[tenant_user.email]]

    # Paused: nothing is sent, new events still queue.
    later = emit(endpoint)
    make_due(first)
    assert deliver_due() == 0
    receiver.default = Reply(status=200)
    endpoint_update(endpoint=endpoint, enabled=True)
    while deliver_due():
        pass
    assert {reread(first).state, reread(later).state} == {State.SUCCEEDED}
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.failing_since is None
    assert Alert.objects.filter(kind=Alert.Kind.WEBHOOK).count() == 1


def test_a_disabled_endpoint_is_not_sent_to(endpoint, receiver):
    emit(endpoint)
    endpoint_update(endpoint=endpoint, enabled=False)
    assert deliver_due() == 0
    assert receiver.received == []


def test_a_plain_http_url_is_refused_at_delivery_time_in_production(endpoint, receiver, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True  # saved in development; production's rule holds now
    delivery = emit(endpoint)
    deliver_due()
    assert receiver.received == []
    delivery = reread(delivery)
    assert (delivery.state, delivery.last_error) == (
        State.DEAD,
        "The URL must use https://, so that events travel encrypted.",
    )
