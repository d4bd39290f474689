import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from workers.models import MAX_MESSAGE_LENGTH, OutboundMessage
from workers.services import outbound_enqueue

URL = reverse("portal:send")


def token_on(page) -> str:
    return re.search(r'name="token" value="([0-9a-f-]+)"', page.content.decode()).group(1)


def test_it_queues_a_message_from_the_form_and_lists_it(owner, tenant):
    token = token_on(owner.get(URL))
    response = owner.post(
        URL, {"to_number": "+1 555-123-4567", "text": "Your order is ready", "token": token}
    )
    assert response.status_code == 302
    message = OutboundMessage.objects.get(tenant=tenant)
    assert (message.to_number, message.text, message.source) == (
        "15551234567",
        "Your order is ready",
        "PORTAL",
    )
    page = owner.get(URL).content.decode()
    assert "Your message to +15551234567 is queued." in page
    assert "Your order is ready" in page and "Queued" in page


def test_it_gives_each_form_its_own_token(owner):
    assert token_on(owner.get(URL)) != token_on(owner.get(URL))


def test_it_queues_once_when_the_same_form_is_sent_twice(owner, tenant):
    form = {"to_number": "15551234567", "text": "Only once please", "token": str(uuid.uuid4())}
    owner.post(URL, form)
    again = owner.post(URL, form, follow=True)
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1
    assert "already queued" in again.content.decode()


def test_it_refuses_to_reuse_a_form_for_another_message_and_offers_a_fresh_one(owner, tenant):
    token = str(uuid.uuid4())
    owner.post(URL, {"to_number": "15551234567", "text": "first", "token": token})
    response = owner.post(URL, {"to_number": "15551234567", "text": "edited after Back", "token": token})
    assert response.status_code == 400
    assert "already used for another message" in response.content.decode()
    assert token_on(response) != token
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1


@pytest.mark.parametrize(
    ("to_number", "text", "error"),
    [
        ("12ab", "hello", "A phone number is 7 to 15 digits in international format"),
        ("", "hello", "A phone number is 7 to 15 digits in international format"),
        ("15551234567", "", "The message is empty."),
        ("15551234567", "   \n ", "The message is empty."),
        ("15551234567", "x" * (MAX_MESSAGE_LENGTH + 1), f"the limit is {MAX_MESSAGE_LENGTH}"),
    ],
)
def test_it_shows_why_a_message_cant_be_queued_and_queues_nothing(owner, tenant, to_number, text, error):
    response = owner.post(URL, {"to_number": to_number, "text": text, "token": str(uuid.uuid4())})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not OutboundMessage.objects.filter(tenant=tenant).exists()


def test_it_asks_to_send_again_when_the_form_has_no_token(owner, tenant):
    response = owner.post(URL, {"to_number": "15551234567", "text": "hi"})
    assert "This form has expired" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_it_shows_each_queued_messages_status_tries_error_and_sent_time(owner, tenant):
    sent, _ = outbound_enqueue(tenant=tenant, to_number="15550000001", text="went out")
    failed, _ = outbound_enqueue(tenant=tenant, to_number="15550000002", text="bounced")
    OutboundMessage.objects.filter(pk=sent.pk).update(status="SENT", attempts=1, sent_at=timezone.now())
    OutboundMessage.objects.filter(pk=failed.pk).update(
        status="FAILED", attempts=5, last_error="number is invalid"
    )
    body = owner.get(URL).content.decode()
    sent_row = re.search(rf'data-outbound="{sent.pk}".*?</tr>', body, re.S).group(0)
    failed_row = re.search(rf'data-outbound="{failed.pk}".*?</tr>', body, re.S).group(0)
    assert "Sent" in sent_row and ">1<" in sent_row and "—" not in sent_row.split('data-label="Sent"')[1]
    assert "Failed" in failed_row and ">5<" in failed_row and "number is invalid" in failed_row


def test_a_sent_message_shows_its_ticks_and_an_unconfirmed_one_says_so(owner, tenant):
    read, _ = outbound_enqueue(tenant=tenant, to_number="15550000001", text="was read")
    unconfirmed, _ = outbound_enqueue(tenant=tenant, to_number="15550000002", text="no ack")
    OutboundMessage.objects.filter(pk=read.pk).update(status="SENT", ack=3, sent_at=timezone.now())
    OutboundMessage.objects.filter(pk=unconfirmed.pk).update(
        status="UNCONFIRMED", last_error="WhatsApp did not confirm it within 60 s; it may not have arrived"
    )
    body = owner.get(URL).content.decode()
    read_row = re.search(rf'data-outbound="{read.pk}".*?</tr>', body, re.S).group(0)
    unconfirmed_row = re.search(rf'data-outbound="{unconfirmed.pk}".*?</tr>', body, re.S).group(0)
    assert 'data-ticks="read"' in read_row and "Read" in read_row
    assert "Not confirmed" in unconfirmed_row and "may not have arrived" in unconfirmed_row
    assert "tone-warn" in unconfirmed_row and "data-ticks" not in unconfirmed_row


def test_it_shows_queued_text_escaped(owner, tenant):
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="<script>alert(1)</script>")
    body = owner.get(URL).content.decode()
    assert "&lt;script&gt;" in body
    assert "<script>alert" not in body


def test_it_shows_only_the_latest_fifty(owner, tenant):
    for number in range(52):
        outbound_enqueue(tenant=tenant, to_number="15551234567", text=f"bulk {number:02d}")
    body = owner.get(URL).content.decode()
    assert body.count("data-outbound=") == 50
    assert "bulk 51" in body and "bulk 00" not in body


def suspend(tenant) -> None:
    from tenants import services

    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="suspended by staff@x.test")


def test_it_switches_the_form_off_for_a_suspended_account(owner, tenant):
    suspend(tenant)
    body = owner.get(URL).content.decode()
    assert "<fieldset disabled" in body
    assert "sending is switched off" in body


def test_it_refuses_to_queue_for_a_suspended_account_and_says_why(owner, tenant):
    suspend(tenant)
    response = owner.post(URL, {"to_number": "15551234567", "text": "hello", "token": str(uuid.uuid4())})
    assert response.status_code == 400
    assert "This account is suspended: sending is switched off." in response.content.decode()
    assert not OutboundMessage.objects.filter(tenant=tenant).exists()


def test_it_leaves_the_form_on_for_an_active_account(owner):
    assert "<fieldset disabled" not in owner.get(URL).content.decode()


def test_it_words_a_message_held_by_the_suspension_for_the_tenant(owner, tenant, settings, tmp_path):
    from workers.suspension import tenant_suspend

    settings.WORKER_HOSTS = [f"unix://{tmp_path}/missing.sock#{tmp_path}/conf.d"]
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="Your cake is ready", source="PORTAL")
    tenant_suspend(tenant=tenant, by="staff@x.test")
    body = owner.get(URL).content.decode()
    assert "Held while suspended" in body
    assert "held: the tenant was suspended" not in body  # the staff's words
    assert "(tenant suspended)" not in body
