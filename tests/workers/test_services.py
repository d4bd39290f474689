import pytest
from django.core.exceptions import ValidationError

from tenants.models import Counter, MessageLog
from tests.helpers.workers import incoming
from workers import services
from workers.models import OutboundMessage, ReplyRule


def test_it_normalizes_numbers_people_type():
    assert services.normalize_number("+1 (555) 123-4567") == "15551234567"


@pytest.mark.parametrize("bad", ["", "abc", "12345", "+1234567890123456", "1555-CALL-NOW", "../../etc"])
def test_it_refuses_what_is_not_a_phone_number(bad):
    with pytest.raises(ValidationError, match="7 to 15 digits"):
        services.normalize_number(bad)


def test_it_matches_a_keyword_as_a_whole_word_ignoring_case(tenant):
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="8 to 5")
    assert services.reply_rule_match(tenant=tenant, text="What are your HOURS?").reply_text == "8 to 5"
    assert services.reply_rule_match(tenant=tenant, text="the hoursglass") is None


def test_it_tries_rules_by_priority_and_skips_disabled_ones(tenant, other_tenant):
    ReplyRule.objects.create(tenant=tenant, pattern="price", reply_text="disabled", priority=1, enabled=False)
    ReplyRule.objects.create(tenant=tenant, pattern="price", reply_text="second", priority=20)
    ReplyRule.objects.create(
        tenant=tenant, match_type="REGEX", pattern=r"pric\w+", reply_text="first", priority=10
    )
    ReplyRule.objects.create(tenant=other_tenant, pattern="price", reply_text="other tenant's", priority=0)
    assert services.reply_rule_match(tenant=tenant, text="the price?").reply_text == "first"


def test_it_refuses_a_broken_regular_expression(tenant):
    rule = ReplyRule(tenant=tenant, match_type="REGEX", pattern="(unclosed", reply_text="x")
    with pytest.raises(ValidationError, match="Not a valid regular expression"):
        rule.full_clean()


def test_a_rule_that_backtracks_forever_is_skipped_not_waited_for(tenant, caplog):
    # (a|aa)+$ on 60 a's and a "!" takes Python's re longer than the age of the universe.
    ReplyRule.objects.create(
        tenant=tenant, match_type="REGEX", pattern="(a|aa)+$", reply_text="never", priority=1
    )
    ReplyRule.objects.create(tenant=tenant, pattern="help", reply_text="how can we help?", priority=2)
    text = "help " + "a" * 60 + "!"

    result = services.inbound_message_handle(
        tenant=tenant, message=incoming(wa_message_id="false_9@c.us_B", from_number="15551234567", text=text)
    )

    assert result.created and result.reply.text == "how can we help?"
    assert Counter.objects.get(name__startswith="whatsapp_reply_rule_timeouts_total").value == 1
    skipped = [r for r in caplog.records if r.getMessage() == "reply rule too slow, skipped"]
    assert len(skipped) == 1 and text not in str(skipped[0].__dict__)


def test_it_logs_an_incoming_message_and_queues_its_reply_once(tenant):
    ReplyRule.objects.create(tenant=tenant, pattern="hi", reply_text="hello!")
    first = services.inbound_message_handle(
        tenant=tenant, message=incoming(wa_message_id="false_1@c.us_A", from_number="15551234567", text="hi")
    )
    again = services.inbound_message_handle(
        tenant=tenant, message=incoming(wa_message_id="false_1@c.us_A", from_number="15551234567", text="hi")
    )
    assert first.created and first.reply.text == "hello!"
    assert not again.created and again.reply is None
    assert MessageLog.objects.filter(tenant=tenant).count() == 1
    assert OutboundMessage.objects.get().in_reply_to == first.log


def test_it_honours_an_idempotency_key(tenant):
    first, created = services.outbound_enqueue(
        tenant=tenant, to_number="15551234567", text="hi", idempotency_key="k1"
    )
    again, created_again = services.outbound_enqueue(
        tenant=tenant, to_number="+1 555 123 4567", text="hi", idempotency_key="k1"
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(services.IdempotencyConflict):
        services.outbound_enqueue(
            tenant=tenant, to_number="15551234567", text="different", idempotency_key="k1"
        )
    assert OutboundMessage.objects.count() == 1


def test_it_refuses_empty_and_oversized_messages(tenant):
    with pytest.raises(ValidationError, match="empty"):
        services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="   ")
    with pytest.raises(ValidationError, match="the limit is 4096"):
        services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="x" * 4097)
    assert not OutboundMessage.objects.exists()


def test_it_claims_each_message_once_oldest_first(tenant, other_tenant):
    a, _ = services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="a")
    b, _ = services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="b")
    services.outbound_enqueue(tenant=other_tenant, to_number="15551234567", text="not mine")
    assert services.outbound_claim_next(tenant=tenant).pk == a.pk
    assert services.outbound_claim_next(tenant=tenant).pk == b.pk
    assert services.outbound_claim_next(tenant=tenant) is None
    assert OutboundMessage.objects.get(pk=a.pk).attempts == 1


def test_it_retries_a_transient_failure_later_then_gives_up(tenant):
    message, _ = services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="a")
    claimed = services.outbound_claim_next(tenant=tenant)
    services.outbound_mark_failed(message=claimed, reason="timeout", permanent=False, max_attempts=2)
    assert OutboundMessage.objects.get(pk=message.pk).status == "QUEUED"
    assert services.outbound_claim_next(tenant=tenant) is None  # backing off
    from django.utils import timezone

    claimed = services.outbound_claim_next(tenant=tenant, now=timezone.now() + services.retry_delay(1))
    services.outbound_mark_failed(message=claimed, reason="timeout again", permanent=False, max_attempts=2)
    failed = OutboundMessage.objects.get(pk=message.pk)
    assert (failed.status, failed.attempts, failed.last_error) == ("FAILED", 2, "timeout again")


def test_it_marks_sent_and_logs_out_together(tenant):
    services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="a")
    claimed = services.outbound_claim_next(tenant=tenant)
    log = services.outbound_mark_sent(message=claimed, wa_message_id="true_15551234567@c.us_X")
    assert OutboundMessage.objects.get(pk=claimed.pk).status == "SENT"
    assert (log.direction, log.to_number, log.message_text) == ("OUT", "15551234567", "a")


def test_it_fails_sends_interrupted_by_a_crash_instead_of_risking_a_duplicate(tenant):
    services.outbound_enqueue(tenant=tenant, to_number="15551234567", text="a")
    services.outbound_claim_next(tenant=tenant)
    assert services.outbound_fail_interrupted(tenant=tenant) == 1
    failed = OutboundMessage.objects.get()
    assert failed.status == "FAILED"
    assert "cannot arrive twice" in failed.last_error


def test_claims_never_handed_to_the_browser_go_back_to_the_queue(tenant, other_tenant):
    for owner in (tenant, tenant, other_tenant):
        services.outbound_enqueue(tenant=owner, to_number="15551234567", text="hi")
    sent = services.outbound_claim_next(tenant=tenant)
    services.outbound_mark_sent(message=sent, wa_message_id="true_1@c.us_X")
    lost = services.outbound_claim_next(tenant=tenant)  # its claim committed; the reply was lost
    elsewhere = services.outbound_claim_next(tenant=other_tenant)

    assert services.outbound_requeue_unsent(tenant=tenant) == 1

    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("QUEUED", 0)
    assert OutboundMessage.objects.get(pk=sent.pk).status == "SENT"
    assert OutboundMessage.objects.get(pk=elsewhere.pk).status == "SENDING"  # another tenant's worker
