import pytest
from django.core import mail

from tenants import services
from tenants.alerts import alerts_deliver, alerts_remind
from tenants.models import Alert, Incident


@pytest.fixture(autouse=True)
def email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_EMAILS = ["ops@platform.test"]


def test_it_alerts_once_when_down_and_once_when_recovered(tenant, webhook):
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="chromium crashed")
    services.tenant_set_status(tenant=tenant, status="ERROR", reason="chromium crashed")
    services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="restarted")
    assert alerts_deliver() == 2
    assert [m.subject for m in mail.outbox] == [
        "[WhatsApp platform] Acme Bakery: Down",
        "[WhatsApp platform] Acme Bakery: Recovered",
    ]
    down, up = webhook.received
    assert (down["kind"], down["old_status"], down["new_status"], down["reason"]) == (
        "DOWN",
        "STOPPED",
        "ERROR",
        "chromium crashed",
    )
    assert down["tenant_id"] == str(tenant.id) and down["at"]
    assert up["kind"] == "RECOVERED" and "down for" in up["reason"]


def test_it_retries_the_webhook_with_backoff_without_emailing_twice(tenant, webhook, settings):
    webhook.fail_next = 1
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crash")
    assert alerts_deliver() == 0
    alert = Alert.objects.get()
    assert (alert.delivery, alert.attempts) == ("PENDING", 1)
    assert "503" in alert.last_error
    assert alerts_deliver() == 0  # not due yet: backing off
    assert alerts_deliver(now=alert.next_attempt_at) == 1
    assert len(mail.outbox) == 1
    assert len(webhook.received) == 1


def test_it_gives_up_after_the_last_attempt_and_says_why(tenant, settings):
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:1/unreachable"
    settings.ALERT_MAX_ATTEMPTS = 2
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crash")
    alerts_deliver()
    alerts_deliver(now=Alert.objects.get().next_attempt_at)
    alert = Alert.objects.get()
    assert (alert.delivery, alert.attempts) == ("FAILED", 2)
    assert "Connection refused" in alert.last_error or "URLError" in alert.last_error


def test_it_sends_one_flapping_alert_instead_of_a_storm(tenant, settings):
    settings.ALERT_FLAP_THRESHOLD = 2
    for _ in range(6):
        services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crash")
        services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="restarted")
    kinds = list(Alert.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["DOWN", "RECOVERED", "DOWN", "RECOVERED", "FLAPPING"]


def test_it_reminds_once_when_still_down(tenant, settings):
    from datetime import timedelta

    from django.utils import timezone

    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crash")
    later = timezone.now() + timedelta(hours=settings.ALERT_REMINDER_HOURS, minutes=1)
    assert alerts_remind(now=later) == 1
    assert alerts_remind(now=later) == 0
    assert Alert.objects.filter(kind="REMINDER").count() == 1
    assert Incident.objects.get().closed_at is None
