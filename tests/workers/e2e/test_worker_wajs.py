"""The worker's wa-js layer end to end: a real ``run_worker``, headless Chromium, the simulator's
wa-js double, the database. What a tenant would notice: the session's state, the timeline, the
message log, the outbound queue, what reached WhatsApp, and what the tenant's log file holds."""

import pytest
from django.utils import timezone

from tenants import services as tenant_services
from tenants.models import MessageLog, Tenant, WhatsAppSession, WorkerEvent
from tests.helpers.processes import tenant_log_lines, wait_until
from tests.helpers.workers import connect, current_qr, state_of, worker_of
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue
from workers.whatsapp.events import BLOCKED_REASONS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "15551234567"
GROUP = "120363012345678901@g.us"
KNOWN_LID = "190012345678901@lid"  # a customer whose number WhatsApp can tell
HIDDEN_LID = "190098765432109@lid"  # one whose number it can't


@pytest.fixture
def rule(tenant: Tenant) -> ReplyRule:
    return ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8")


def log_text(worker_env: dict[str, str], tenant: Tenant) -> str:
    return "\n".join(map(str, tenant_log_lines(worker_env, tenant.id)))


def incoming_logs(tenant: Tenant):
    return MessageLog.objects.filter(tenant=tenant, direction="IN")


def test_it_links_by_a_pairing_code_asked_for_while_it_shows_a_qr(
    tenant, simulator, start_worker, worker_env
):
    worker = start_worker(tenant.id, simulator)
    wait_until(lambda: current_qr(tenant), what="a QR code")
    tenant_services.session_request_link_code(
        session=WhatsAppSession.objects.get(tenant=tenant), phone="15550009999"
    )
    shown = wait_until(
        lambda: WhatsAppSession.objects.filter(tenant=tenant).exclude(link_code="").first(),
        what="the pairing code in the database",
    )
    code = shown.link_code
    assert len(code) == 8 and code.isalnum()
    assert shown.link_code_expires_at > timezone.now()

    session_id = simulator.link_by_code(code)  # typed on the phone
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED")
    assert next(s["phone"] for s in simulator.sessions() if s["id"] == session_id) == "15550009999"
    linked = WhatsAppSession.objects.get(tenant=tenant)
    assert (linked.link_phone, linked.link_code, linked.link_code_expires_at) == ("", "", None)
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED", reason="pairing code").count() == 1
    assert worker.stop() == 0
    # The code is a login credential: the tenant's log says one was shown, never which.
    assert "link_code" in [line.get("event") for line in tenant_log_lines(worker_env, tenant.id)]
    assert code not in log_text(worker_env, tenant)
    assert code not in worker.text()


def test_it_logs_a_group_message_but_does_not_answer_it(tenant, rule, simulator, start_worker):
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    in_group = simulator.incoming(session_id, CUSTOMER, "What are your hours?", group=GROUP)
    # The same question in a 1:1 chat right after: once it is answered, the group's was handled.
    simulator.incoming(session_id, "15557654321", "What are your hours?")
    wait_until(lambda: simulator.sent(session_id), what="the 1:1 reply")

    assert [m["chat"] for m in simulator.sent(session_id)] == ["15557654321"]
    logged = incoming_logs(tenant).get(wa_message_id=in_group)
    assert (logged.is_group, logged.chat_id, logged.sender_id, logged.from_number) == (
        True,
        GROUP,
        f"{CUSTOMER}@c.us",
        CUSTOMER,
    )
    assert not OutboundMessage.objects.filter(in_reply_to=logged).exists()
    assert worker.stop() == 0


def test_it_answers_a_lid_sender_at_its_number_or_else_at_the_lid(
    tenant, rule, simulator, start_worker, worker_env
):
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    known = simulator.incoming(session_id, CUSTOMER, "hours?", lid=KNOWN_LID)
    hidden = simulator.incoming(session_id, None, "hours?", lid=HIDDEN_LID)
    wait_until(
        lambda: MessageLog.objects.filter(tenant=tenant, direction="OUT").count() == 2, what="both replies"
    )

    assert [(m["chat"], m["text"]) for m in simulator.sent(session_id)] == [
        (CUSTOMER, "We open at 8"),
        (HIDDEN_LID, "We open at 8"),
    ]
    rows = {log.wa_message_id: log for log in incoming_logs(tenant)}
    assert (rows[known].chat_id, rows[known].sender_id, rows[known].from_number) == (
        KNOWN_LID,
        KNOWN_LID,
        CUSTOMER,
    )
    assert (rows[hidden].chat_id, rows[hidden].sender_id, rows[hidden].from_number) == (
        HIDDEN_LID,
        HIDDEN_LID,
        "",
    )
    replies = MessageLog.objects.filter(tenant=tenant, direction="OUT").order_by("created_at")
    assert [log.to_number for log in replies] == [CUSTOMER, HIDDEN_LID]
    assert worker.stop() == 0
    text = log_text(worker_env, tenant)
    for full in (CUSTOMER, KNOWN_LID.split("@")[0], HIDDEN_LID.split("@")[0]):
        assert full not in text


def test_it_flags_a_send_whatsapp_never_confirms_until_a_late_ack(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, OUTBOUND_ACK_TIMEOUT_SECONDS="1")
    session_id = connect(tenant, simulator)
    simulator.action(session_id, "acks", {"mode": "never"})
    message, _ = outbound_enqueue(tenant=tenant, to_number="15551112222", text="Your cake is ready")
    (sent,) = wait_until(lambda: simulator.sent(session_id), what="the message in the simulator")

    flagged = wait_until(
        lambda: OutboundMessage.objects.filter(pk=message.pk, status="UNCONFIRMED").first(),
        what="the send flagged UNCONFIRMED",
    )
    assert "did not confirm it within 1 s" in flagged.last_error
    assert flagged.ack == 0  # still pending at WhatsApp

    simulator.action(session_id, "ack", {"id": sent["id"], "ack": 1})  # the server's tick, late
    confirmed = wait_until(
        lambda: OutboundMessage.objects.filter(pk=message.pk, status="SENT").first(),
        what="SENT after the late ack",
    )
    assert (confirmed.ack, confirmed.last_error) == (1, "")
    assert confirmed.ack_at > flagged.sent_at
    assert MessageLog.objects.get(tenant=tenant, direction="OUT").ack == 1
    assert len(simulator.sent(session_id)) == 1  # never sent again
    assert worker.stop() == 0


@pytest.mark.parametrize(
    ("action", "mode", "state"),
    [("tos-block", "TOS_BLOCK", "BLOCKED"), ("deprecated-version", "DEPRECATED_VERSION", "UPDATE_NEEDED")],
)
def test_a_block_puts_the_session_in_its_state_with_a_plain_reason(
    tenant, simulator, start_worker, worker_env, action, mode, state
):
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    # The worker writes the session, then the tenant: wait for ACTIVE so ERROR comes after it.
    wait_until(lambda: Tenant.objects.get(pk=tenant.pk).status == "ACTIVE", what="tenant ACTIVE")
    simulator.action(session_id, action)

    wait_until(lambda: Tenant.objects.get(pk=tenant.pk).status == "ERROR", what="tenant ERROR")
    assert state_of(tenant) == state
    reason = BLOCKED_REASONS[mode]
    timeline = WorkerEvent.objects.filter(tenant=tenant).order_by("id")
    assert timeline.filter(kind="SESSION_STATE").last().new_value == state
    assert timeline.filter(kind="SESSION_STATE").last().reason == reason
    assert timeline.filter(kind="TENANT_STATUS").last().reason == reason
    assert worker_of(tenant).last_error == reason
    assert worker.process.poll() is None  # it waits for a person; it does not crash or loop
    assert worker.stop() == 0
    assert state.lower() in [line.get("event") for line in tenant_log_lines(worker_env, tenant.id)]


def test_it_logs_neither_status_posts_nor_its_own_messages_as_incoming(tenant, simulator, start_worker):
    # A reply that matches its own rule: a bot that read its own messages would answer itself.
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="Our hours are 8 to 5")
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    simulator.incoming(session_id, CUSTOMER, "New opening hours from Monday!", status=True)
    asked = simulator.incoming(session_id, "15557654321", "hours?")
    wait_until(lambda: simulator.sent(session_id), what="the reply")
    # Said after the reply was sent: once it is logged, the reply went past the worker too.
    thanks = simulator.incoming(session_id, "15557654321", "thanks")
    wait_until(lambda: incoming_logs(tenant).filter(wa_message_id=thanks).exists(), what="the thanks")

    assert set(incoming_logs(tenant).values_list("wa_message_id", flat=True)) == {asked, thanks}
    assert [m["text"] for m in simulator.sent(session_id)] == ["Our hours are 8 to 5"]
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1
    assert worker.stop() == 0
