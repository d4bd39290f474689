import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tenants.models import Ack, MessageLog

URL = reverse("portal:messages")


def add(tenant, text, *, direction="IN", number="15551234567", minutes_ago=0) -> MessageLog:
    return MessageLog.objects.create(
        tenant=tenant,
        direction=direction,
        from_number=number if direction == "IN" else "",
        to_number=number if direction == "OUT" else "",
        message_text=text,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_it_lists_the_log_newest_first(owner, tenant):
    add(tenant, "first hello", minutes_ago=5)
    add(tenant, "second hello", minutes_ago=1)
    body = owner.get(URL).content.decode()
    assert body.index("second hello") < body.index("first hello")
    assert "+15551234567" in body


def test_it_filters_by_direction_and_searches_text_and_numbers(owner, tenant):
    add(tenant, "do you deliver?", number="15550001111")
    add(tenant, "yes we deliver", direction="OUT", number="15550001111")
    add(tenant, "cake for saturday", number="4930123456")
    incoming = owner.get(URL, {"direction": "IN"}).content.decode()
    assert "do you deliver?" in incoming and "yes we deliver" not in incoming
    by_text = owner.get(URL, {"q": "CAKE"}).content.decode()
    assert "cake for saturday" in by_text and "deliver" not in by_text
    by_number = owner.get(URL, {"q": "+49 30"}).content.decode()
    assert "cake for saturday" in by_number and "deliver" not in by_number
    assert "No messages match." in owner.get(URL, {"q": "croissant"}).content.decode()


def test_it_walks_the_whole_log_with_older_exactly_once(owner, tenant):
    same_moment = timezone.now() - timedelta(hours=1)
    expected = set()
    for number in range(7):  # several rows share a timestamp: the cursor's id breaks the tie
        row = add(tenant, f"message number {number:02d}")
        if number % 2:
            MessageLog.objects.filter(pk=row.pk).update(created_at=same_moment)
        expected.add(f"message number {number:02d}")
    seen, url, pages = [], f"{URL}?limit=2&direction=IN", 0
    while url:
        response = owner.get(url)
        assert response.status_code == 200
        context = response.context
        seen += [m.message_text for m in context["page"].messages]
        url, pages = context["older_url"], pages + 1
        if url:
            assert "direction=IN" in url and "limit=2" in url  # the filters carry over
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == expected
    assert pages == 4


def test_it_pages_without_offset_or_counting_the_log(owner, tenant):
    for number in range(3):
        add(tenant, f"m{number}", minutes_ago=number)
    cursor = owner.get(URL, {"limit": 1}).context["page"].next_cursor
    with CaptureQueriesContext(connection) as queries:
        owner.get(URL, {"limit": 1, "before": cursor})
    sql = " ".join(
        q["sql"].upper() for q in queries.captured_queries if "TENANTS_MESSAGELOG" in q["sql"].upper()
    )
    assert "OFFSET" not in sql and "COUNT(" not in sql


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"before": "not-a-cursor"}, "before: not a cursor"),
        ({"limit": "0"}, "limit: a whole number from 1 to 500"),
        ({"limit": "lots"}, "limit: a whole number from 1 to 500"),
        ({"direction": "SIDEWAYS"}, "direction: IN or OUT"),
    ],
)
def test_it_explains_a_bad_page_request_with_a_400(owner, tenant, params, message):
    response = owner.get(URL, params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "We couldn't show that page." in body
    assert message in body.replace("&#x27;", "'")


def test_it_shows_message_text_escaped(owner, tenant):
    add(tenant, "<script>alert('hi')</script>")
    body = owner.get(URL).content.decode()
    assert "&lt;script&gt;" in body
    assert "<script>alert" not in body


def ticks_of(body: str) -> list[str]:
    return re.findall(r'data-ticks="([a-z]+)"', body)


def test_each_sent_message_shows_its_ticks_as_whatsapp_acknowledged_it(owner, tenant):
    for minutes_ago, ack in enumerate([None, Ack.SERVER, Ack.DEVICE, Ack.READ, Ack.ERROR]):
        sent = add(tenant, f"reply {minutes_ago}", direction="OUT", minutes_ago=minutes_ago)
        MessageLog.objects.filter(pk=sent.pk).update(ack=ack)
    add(tenant, "a customer's message", minutes_ago=10)  # received messages have no ticks
    body = owner.get(URL).content.decode()
    assert ticks_of(body) == ["pending", "sent", "delivered", "read", "error"]
    assert "Not yet confirmed by WhatsApp" in body and "Delivered" in body and "Read" in body


def test_it_names_a_hidden_number_and_a_group_as_whatsapp_gave_them(owner, tenant):
    MessageLog.objects.create(
        tenant=tenant,
        direction="IN",
        sender_id="123456789012345@lid",
        chat_id="120363041234567890@g.us",
        is_group=True,
        message_text="who bakes on sunday?",
    )
    body = owner.get(URL).content.decode()
    assert "123456789012345@lid" in body
    assert "Group" in body and "120363041234567890@g.us" in body
