"""Retention: purge deletes exactly what is older, in batches, once even when run twice at once."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections
from django.utils import timezone

from tenants import services
from tenants.models import MessageLog, WebhookAttempt, WebhookDelivery, WebhookEvent, WorkerEvent
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_create
from workers.models import OutboundMessage
from workers.services import outbound_enqueue


def aged_messages(tenant, *, old: int, new: int) -> None:
    for i in range(old + new):
        services.message_log_record(
            tenant=tenant, direction="IN", from_number="1", to_number="", text=f"m{i}"
        )
    ids = list(MessageLog.objects.order_by("created_at").values_list("id", flat=True)[:old])
    MessageLog.objects.filter(id__in=ids).update(created_at=timezone.now() - timedelta(days=40))


def test_it_deletes_exactly_what_is_older_and_nothing_else(tenant, capsys):
    aged_messages(tenant, old=23, new=7)
    MessageLog.objects.filter(message_text="m29").update(
        created_at=timezone.now() - timedelta(days=29, hours=23)
    )
    call_command("purge_message_logs", "--older-than", "30", "--batch-size", "5")
    assert "deleted 23 message logs in 5 batches" in capsys.readouterr().out
    assert MessageLog.objects.count() == 7
    assert not MessageLog.objects.filter(created_at__lt=timezone.now() - timedelta(days=30)).exists()


def test_a_dry_run_says_what_it_would_delete_and_deletes_nothing(tenant, capsys):
    aged_messages(tenant, old=4, new=2)
    call_command("purge_message_logs", "--older-than", "30", "--dry-run")
    assert "would delete 4 message logs older than" in capsys.readouterr().out
    assert MessageLog.objects.count() == 6


def test_it_purges_old_events_and_finished_outbound_messages_only(tenant, capsys):
    services.tenant_set_status(tenant=tenant, status="ACTIVE")
    WorkerEvent.objects.filter(tenant=tenant).update(created_at=timezone.now() - timedelta(days=400))
    services.tenant_set_status(tenant=tenant, status="ERROR")
    call_command("purge_worker_events", "--older-than", "180")
    assert list(WorkerEvent.objects.values_list("new_value", flat=True)) == ["ERROR"]
    sent, _ = outbound_enqueue(tenant=tenant, to_number="15551234567", text="sent long ago")
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="still queued")
    OutboundMessage.objects.filter(pk=sent.pk).update(status="SENT")
    OutboundMessage.objects.update(updated_at=timezone.now() - timedelta(days=100))
    call_command("purge_outbound_messages", "--older-than", "90")
    assert list(OutboundMessage.objects.values_list("text", flat=True)) == ["still queued"]


@pytest.mark.parametrize("args", [["--older-than", "0"], ["--older-than", "30", "--batch-size", "0"]])
def test_it_refuses_nonsense(db, args):
    with pytest.raises(CommandError):
        call_command("purge_message_logs", *args)


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_delete_each_row_once():
    tenant = services.tenant_create(name="Old Bakery")
    aged_messages(tenant, old=200, new=10)
    from workers.retention import message_logs_purge

    results, barrier = [], threading.Barrier(2)

    def purge() -> None:
        barrier.wait()
        try:
            results.append(message_logs_purge(days=30, batch_size=7).deleted)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 200
    assert MessageLog.objects.count() == 10


def test_delivered_webhook_events_go_after_the_retention_and_undelivered_ones_after_twice_it(
    tenant, settings, capsys
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    first = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/a", event_types=[events.MESSAGE_RECEIVED])
    second = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/b", event_types=[events.MESSAGE_RECEIVED])

    def event(name: str, age_days: int, first_state: str, second_state: str) -> str:
        made = webhook_emit(tenant_id=tenant.id, event_type=events.MESSAGE_RECEIVED, data={"name": name})
        at = timezone.now() - timedelta(days=age_days)
        WebhookEvent.objects.filter(pk=made.pk).update(created_at=at)
        for endpoint, state in [(first, first_state), (second, second_state)]:
            delivery = WebhookDelivery.objects.get(event=made, endpoint=endpoint)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state, created_at=at)
            WebhookAttempt.objects.create(delivery=delivery, started_at=at, status_code=200)
        return name

    event("delivered long ago", 40, "SUCCEEDED", "SUCCEEDED")
    event("delivered lately", 20, "SUCCEEDED", "SUCCEEDED")
    event("dead, still replayable", 40, "SUCCEEDED", "DEAD")
    event("waiting behind a paused endpoint", 50, "RETRYING", "SUCCEEDED")
    event("dead for ever", 70, "DEAD", "SUCCEEDED")

    call_command("purge_webhook_events", "--older-than", "30", "--batch-size", "1")
    assert "deleted 2 webhook events in 2 batches" in capsys.readouterr().out
    kept = {e.payload["data"]["name"] for e in WebhookEvent.objects.all()}
    assert kept == {"delivered lately", "dead, still replayable", "waiting behind a paused endpoint"}
    assert WebhookDelivery.objects.count() == 6 and WebhookAttempt.objects.count() == 6


def test_a_purge_removes_the_files_of_the_messages_it_deletes_and_keeps_the_rest(tenant, settings, tmp_path):
    from tenants.media import media_store
    from workers.simulator.media import sample

    settings.MEDIA_ROOT = tmp_path / "media"
    photo, pdf = sample("image"), sample("document")
    for n, item in enumerate([photo, pdf, photo]):
        stored = media_store(
            tenant=tenant, data=item.data, claimed_type=item.mimetype, file_name=item.filename
        )
        services.message_log_record(
            tenant=tenant,
            direction="IN",
            from_number="1",
            to_number="",
            text="",
            wa_message_id=f"m{n}",
            **stored.log_fields(),
        )
    kept = MessageLog.objects.get(wa_message_id="m2")
    MessageLog.objects.exclude(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=40))
    def files() -> list[str]:
        return sorted(p.relative_to(settings.MEDIA_ROOT).as_posix() for p in settings.MEDIA_ROOT.rglob("*.*"))

    assert len(files()) == 5  # two photos with thumbnails, one PDF

    call_command("purge_message_logs", "--older-than", "30", "--batch-size", "1")

    assert files() == sorted([kept.media_file.name, kept.media_thumbnail.name])
