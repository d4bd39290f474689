"""/metrics: the values match the database after a scripted scenario, and promtool accepts it."""

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tenants import services
from tenants.models import Ack, WebhookDelivery, WorkerProcess
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_create
from tests.helpers.receiver import Reply, WebhookReceiver
from workers.services import (
    outbound_claim_next,
    outbound_enqueue,
    outbound_flag_unconfirmed,
    outbound_mark_failed,
    outbound_mark_sent,
    outbound_record_ack,
)
from workers.stale import workers_mark_stale
from workers.webhooks import dispatcher


@pytest.fixture(autouse=True)
def scrape_token(settings) -> None:
    settings.METRICS_TOKEN = "scrape-token"


def scrape(client, **headers) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token", **headers)
    assert response.status_code == 200, response.content
    return response.content.decode()


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scenario(tenant, other_tenant) -> None:
    for i in range(3):
        services.message_log_record(
            tenant=tenant, direction="IN", from_number="1555", to_number="", text="x", wa_message_id=f"in-{i}"
        )
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="1555", to_number="", text="x", wa_message_id="in-0"
    )  # a duplicate
    services.message_log_record(
        tenant=tenant, direction="OUT", from_number="", to_number="1555", text="x", wa_message_id="out-0"
    )
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="waiting")
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="doomed")
    doomed = outbound_claim_next(tenant=tenant)
    outbound_mark_failed(message=doomed, reason="invalid number", permanent=True, max_attempts=5)
    services.session_record_qr(session=other_tenant.session, value="a", data_uri="data:image/png;base64,AA")
    services.session_record_qr(session=other_tenant.session, value="b", data_uri="data:image/png;base64,BB")
    WorkerProcess.objects.filter(tenant=tenant).update(status="RUNNING")
    services.session_heartbeat(session=tenant.session, at=timezone.now() - timedelta(minutes=10))
    workers_mark_stale(threshold_seconds=120)


def test_it_matches_the_database_after_a_scenario(client, tenant, other_tenant):
    scenario(tenant, other_tenant)
    found = samples(scrape(client))
    t, o = str(tenant.id), str(other_tenant.id)
    assert found[("whatsapp_messages_total", (("direction", "IN"), ("tenant_id", t)))] == 3
    assert found[("whatsapp_messages_total", (("direction", "OUT"), ("tenant_id", t)))] == 1
    assert found[("whatsapp_outbound_queue_depth", (("tenant_id", t),))] == 1
    assert found[("whatsapp_outbound_failed_total", (("tenant_id", t),))] == 1
    assert found[("whatsapp_qr_codes_total", (("tenant_id", o),))] == 2
    assert found[("whatsapp_stale_marked_total", ())] == 1
    assert found[("whatsapp_tenants", (("status", "ERROR"),))] == 1
    assert found[("whatsapp_workers", (("status", "ERROR"),))] == 1
    assert found[("whatsapp_sessions", (("state", "QR"),))] == 1
    assert (
        found[("whatsapp_worker_status", (("status", "ERROR"), ("tenant", "Acme Bakery"), ("tenant_id", t)))]
        == 1
    )
    assert (
        590
        < found[("whatsapp_worker_heartbeat_age_seconds", (("tenant", "Acme Bakery"), ("tenant_id", t)))]
        < 700
    )


def test_it_shows_and_counts_sends_whatsapp_never_confirmed(client, tenant, other_tenant):
    for text in ("first", "second"):
        outbound_enqueue(tenant=tenant, to_number="15551234567", text=text)
        outbound_mark_sent(message=outbound_claim_next(tenant=tenant), wa_message_id=f"true_x_{text}")
    outbound_enqueue(tenant=other_tenant, to_number="15551234567", text="still queued")
    assert outbound_flag_unconfirmed(tenant=tenant, timeout_seconds=0) == 2
    found = samples(scrape(client))
    t, o = str(tenant.id), str(other_tenant.id)
    assert found[("whatsapp_outbound_unconfirmed", (("tenant_id", t),))] == 2
    assert found[("whatsapp_outbound_unconfirmed_total", (("tenant_id", t),))] == 2
    assert ("whatsapp_outbound_unconfirmed", (("tenant_id", o),)) not in found
    assert found[("whatsapp_outbound_queue_depth", (("tenant_id", o),))] == 1
    assert ("whatsapp_outbound_queue_depth", (("tenant_id", t),)) not in found

    # A late ack makes them sent after all: the gauge falls, the count of incidents stays.
    outbound_record_ack(tenant=tenant, wa_message_ids=["true_x_first"], ack=Ack.SERVER, at=timezone.now())
    found = samples(scrape(client))
    assert found[("whatsapp_outbound_unconfirmed", (("tenant_id", t),))] == 1
    assert found[("whatsapp_outbound_unconfirmed_total", (("tenant_id", t),))] == 2


def test_it_counts_refused_portal_calls(client, tenant_user, settings):
    settings.PORTAL_INTERNAL_KEY = "right"
    client.get("/api/portal/tenant/current", HTTP_X_PORTAL_KEY="wrong", HTTP_X_USER_EMAIL=tenant_user.email)
    assert samples(scrape(client))[("whatsapp_portal_api_unauthorized_total", ())] == 1


def test_it_uses_the_same_number_of_queries_for_2_and_40_tenants(client, db):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape(client)
        return len(queries)

    for i in range(2):
        services.tenant_create(name=f"t{i}")
    few = count()
    for i in range(38):
        tenant = services.tenant_create(name=f"u{i}")
        services.message_log_record(tenant=tenant, direction="IN", from_number="1", to_number="", text="x")
    assert count() == few


def test_it_refuses_scrapers_it_does_not_know(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 403
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 200
    settings.METRICS_TOKEN = "scrape-token"
    assert client.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 403
    assert (
        client.get("/metrics", REMOTE_ADDR="10.9.8.7", HTTP_AUTHORIZATION="Bearer scrape-token").status_code
        == 200
    )


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (Debian's prometheus package)")
def test_promtool_accepts_the_output(client, tenant, other_tenant):
    scenario(tenant, other_tenant)
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=scrape(client), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_trusts_no_address_in_production_by_default(manage):
    # Behind a same-host proxy every client is 127.0.0.1: that must not open /metrics.
    code = "from django.conf import settings; print('allowed:', settings.METRICS_ALLOWED_IPS)"
    assert "allowed: []" in manage("shell", "-c", code, env={"DEBUG": "0"}).stdout
    assert "allowed: ['127.0.0.1', '::1']" in manage("shell", "-c", code, env={"DEBUG": "1"}).stdout


def test_it_sees_the_scraper_through_a_trusted_proxy(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    behind = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3", **behind).status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.5", **behind).status_code == 403
    # A peer that is not a trusted proxy can't name itself an allowed address.
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    )


def test_it_counts_webhook_outcomes_and_the_age_of_each_endpoints_oldest_undelivered_event(
    client, tenant, other_tenant, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    receiver = WebhookReceiver()
    try:
        fine = endpoint_create(tenant=tenant, url=receiver.url, event_types=[events.MESSAGE_RECEIVED])
        down = endpoint_create(
            tenant=other_tenant, url="http://127.0.0.1:9/down", event_types=[events.MESSAGE_RECEIVED]
        )
        receiver.replies = [Reply(410)]  # the first one: dead at once
        for who, number in [(tenant, 3), (other_tenant, 2)]:
            for i in range(number):
                services.message_log_record(
                    tenant=who,
                    direction="IN",
                    from_number=f"1555{i}",
                    to_number="",
                    text="x",
                    wa_message_id=f"w{i}",
                )
        WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=20))
        dispatcher.run_once()
    finally:
        receiver.stop()
    found = samples(scrape(client))
    outcome = {
        labels: value
        for (name, labels), value in found.items()
        if name == "whatsapp_webhook_deliveries_total"
    }
    mine, theirs = str(tenant.id), str(other_tenant.id)
    assert outcome[(("outcome", "dead"), ("tenant_id", mine))] == 1
    assert outcome[(("outcome", "succeeded"), ("tenant_id", mine))] == 2
    assert outcome[(("outcome", "failed"), ("tenant_id", theirs))] == 2  # unreachable: will retry
    ages = {
        dict(labels)["endpoint_id"]: value
        for (name, labels), value in found.items()
        if name == "whatsapp_webhook_oldest_undelivered_seconds"
    }
    assert set(ages) == {str(down.id)}  # the fine endpoint has nothing waiting
    assert 20 * 60 <= ages[str(down.id)] < 21 * 60
    assert str(fine.id) not in ages


def test_it_shows_each_tenants_stored_media(client, tenant, other_tenant, settings, tmp_path):
    from tenants.media import media_store
    from tenants.services import message_log_record
    from workers.simulator.media import sample

    settings.MEDIA_ROOT = tmp_path / "media"
    pdf = sample("document").data
    for n in range(2):
        stored = media_store(tenant=tenant, data=pdf, claimed_type="application/pdf", file_name="menu.pdf")
        message_log_record(
            tenant=tenant,
            direction="IN",
            from_number="1",
            to_number="",
            text="",
            wa_message_id=f"m{n}",
            **stored.log_fields(),
        )
    text = scrape(client)
    assert f'whatsapp_media_stored_bytes{{tenant_id="{tenant.id}"}} {float(2 * len(pdf))}' in text
    assert f'whatsapp_media_stored_files{{tenant_id="{tenant.id}"}} 2.0' in text
    assert (
        str(other_tenant.id) not in [line for line in text.splitlines() if "media_stored" in line].__str__()
    )
