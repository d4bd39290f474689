"""The dashboard's "your bot at work": counts, the queue, the traffic chart, the latest chats."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tenants import services
from tests.helpers.workers import incoming as incoming_message
from workers import services as worker_services
from workers.services import inbound_message_handle, outbound_claim_next, outbound_enqueue, outbound_mark_sent

URL = reverse("portal:dashboard")


def stat(body: str, name: str) -> str:
    return re.search(rf'data-stat="{name}">([^<]*)<', body).group(1).strip()


def incoming(tenant, number: str, text: str, *, ago: timedelta = timedelta()) -> None:
    services.message_log_record(
        tenant=tenant, direction="IN", from_number=number, to_number="", text=text, at=timezone.now() - ago
    )


def outgoing(tenant, number: str, text: str, *, ago: timedelta = timedelta()) -> None:
    services.message_log_record(
        tenant=tenant, direction="OUT", from_number="", to_number=number, text=text, at=timezone.now() - ago
    )


def test_it_counts_messages_in_and_out_today_and_over_seven_days(owner, tenant, other_tenant):
    incoming(tenant, "15551230001", "today")
    incoming(tenant, "15551230002", "today too")
    outgoing(tenant, "15551230001", "reply today")
    incoming(tenant, "15551230003", "three days ago", ago=timedelta(days=3))
    outgoing(tenant, "15551230003", "reply three days ago", ago=timedelta(days=3))
    incoming(tenant, "15551230004", "ten days ago", ago=timedelta(days=10))
    incoming(other_tenant, "15551230005", "someone else's")
    body = owner.get(URL).content.decode()
    assert (stat(body, "in-today"), stat(body, "out-today")) == ("2", "1")
    assert (stat(body, "in-week"), stat(body, "out-week")) == ("3", "2")


def test_it_counts_the_replies_its_rules_sent_and_what_is_queued(owner, tenant):
    worker_services.reply_rule_create(tenant=tenant, name="Hours", pattern="hours", reply_text="We open at 8")
    for n in range(3):
        inbound_message_handle(
            tenant=tenant,
            message=incoming_message(wa_message_id=f"in-{n}", from_number="15551230001", text="hours?"),
        )
    outbound_enqueue(tenant=tenant, to_number="15551230002", text="from the portal", source="PORTAL")
    for n in range(2):  # the worker sends the first two rule replies
        outbound_mark_sent(message=outbound_claim_next(tenant=tenant), wa_message_id=f"out-{n}")
    body = owner.get(URL).content.decode()
    assert stat(body, "rule-replies-today") == "2"
    assert stat(body, "rule-replies-week") == "2"
    assert stat(body, "queued") == "2"  # a rule reply and the portal's message
    assert stat(body, "out-today") == "2"


def test_it_draws_the_hourly_traffic_on_the_server(owner, tenant):
    for _ in range(3):
        incoming(tenant, "15551230001", "hi")
    outgoing(tenant, "15551230001", "hello", ago=timedelta(hours=2))
    body = owner.get(URL).content.decode()
    chart = re.search(r'<svg id="traffic-chart".*?</svg>', body, re.S).group(0)
    incoming_bars = re.findall(r'class="bar-in"[^>]*data-count="(\d+)"', chart)
    outgoing_bars = re.findall(r'class="bar-out"[^>]*data-count="(\d+)"', chart)
    assert len(incoming_bars) == len(outgoing_bars) == 24
    assert incoming_bars[-1] == "3"
    assert outgoing_bars[-3] == "1"
    assert "3 incoming and 1 outgoing" in chart


def test_it_lists_the_latest_conversations_newest_first_escaped(owner, tenant, other_tenant):
    incoming(tenant, "15551230001", "first chat", ago=timedelta(hours=3))
    incoming(tenant, "15551230002", "<script>alert(1)</script>", ago=timedelta(hours=2))
    outgoing(tenant, "15551230001", "our answer", ago=timedelta(hours=1))
    incoming(other_tenant, "15559990000", "not yours")
    body = owner.get(URL).content.decode()
    rows = re.findall(r'<li class="conversation" data-peer="(\d+)">(.*?)</li>', body, re.S)
    assert [peer for peer, _ in rows] == ["15551230001", "15551230002"]
    assert "+15551230001" in rows[0][1] and "our answer" in rows[0][1] and "You" in rows[0][1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rows[1][1]
    assert "<script>alert" not in body
    assert "/portal/messages/?q=15551230001" in rows[0][1]
    assert "not yours" not in body


def test_a_sender_known_only_by_its_lid_is_listed_by_it_without_a_plus(owner, tenant):
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="", to_number="", sender_id="204816221679@lid", text="hi"
    )
    body = owner.get(URL).content.decode()
    peers = re.findall(
        r'<li class="conversation" data-peer="([^"]+)">.*?class="conversation-peer"[^>]*>([^<]*)<', body, re.S
    )
    assert peers == [("204816221679@lid", "204816221679@lid")]


def test_it_says_so_before_the_first_message(owner):
    body = owner.get(URL).content.decode()
    assert "No conversations yet" in body
    assert stat(body, "in-today") == "0"


def add_traffic(tenant, first: int, last: int) -> None:
    for n in range(first, last):
        number = f"155512300{n:02d}"
        incoming(tenant, number, f"message {n}", ago=timedelta(hours=n % 30))
        outbound_enqueue(tenant=tenant, to_number=number, text="reply", source="RULE")


def queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_it_reads_the_dashboard_in_a_fixed_number_of_queries(owner, tenant):
    add_traffic(tenant, 0, 1)
    few = queries_for(owner)
    add_traffic(tenant, 1, 30)
    assert queries_for(owner) == few
    assert few <= 20
