"""Photos, documents, voice notes and groups end to end: a real ``run_worker``, headless
Chromium, the simulator's wa-js double (which downloads files as WhatsApp Web does), the
database and the storage; then the portal, the API and the webhook event as their users
would see them."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tenants.api_keys import api_key_create
from tenants.models import MessageLog, Tenant, WebhookEvent, WorkerEvent
from tenants.webhooks.services import endpoint_create
from tests.helpers.api import bearer
from tests.helpers.clients import https_client
from tests.helpers.processes import tenant_log_lines, wait_until
from tests.helpers.workers import connect
from workers.models import OutboundMessage, ReplyRule
from workers.simulator.media import sample

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "15551234567"
GROUP = "120363012345678901@g.us"


@pytest.fixture(autouse=True)
def same_media_root(settings, worker_env) -> Path:
    settings.MEDIA_ROOT = Path(worker_env["MEDIA_ROOT"])
    return settings.MEDIA_ROOT


def test_a_photo_a_document_and_a_voice_note_are_stored_shown_and_announced(
    tenant: Tenant, tenant_user, simulator, start_worker, worker_env, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    # Subscribed, so the events are written (nothing is delivered: the port is closed).
    endpoint_create(tenant=tenant, url="http://127.0.0.1:9/hooks", event_types=["message.received"])
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    photo_id = simulator.incoming(session_id, CUSTOMER, "Like this, for Saturday?", media={"type": "image"})
    pdf_id = simulator.incoming(session_id, CUSTOMER, "", media={"type": "document"})
    voice_id = simulator.incoming(session_id, CUSTOMER, "", media={"type": "ptt"})
    logs = wait_until(
        lambda: (
            (found := {m.wa_message_id: m for m in MessageLog.objects.filter(tenant=tenant)}).keys()
            >= {photo_id, pdf_id, voice_id}
            and found
        ),
        what="the three media messages logged",
    )
    assert worker.stop() == 0

    photo, pdf, voice = logs[photo_id], logs[pdf_id], logs[voice_id]
    # The caption is the text; WhatsApp's base64 preview in the body is not.
    assert (photo.message_type, photo.message_text, photo.media_mime_type) == (
        "image",
        "Like this, for Saturday?",
        "image/png",
    )
    assert (pdf.message_type, pdf.media_file_name, pdf.media_mime_type) == (
        "document",
        "price-list.pdf",
        "application/pdf",
    )
    assert (voice.message_type, voice.media_mime_type) == ("ptt", "audio/x-wav")
    assert photo.media_thumbnail and not pdf.media_thumbnail

    owner = https_client()
    owner.force_login(tenant_user)
    page = owner.get("/portal/messages/").content.decode()
    assert f"/portal/messages/{photo.id}/thumbnail" in page
    assert f'src="/portal/messages/{voice.id}/file"' in page
    download = owner.get(f"/portal/messages/{pdf.id}/file")
    assert b"".join(download.streaming_content) == sample("document").data  # the bytes the contact sent
    assert https_client().get(f"/portal/messages/{pdf.id}/file").status_code == 302  # anonymous: to the login

    # The webhook event names the file; the tenant's program fetches it with its key.
    data = next(
        event.payload["data"]
        for event in WebhookEvent.objects.filter(tenant=tenant, type="message.received")
        if event.payload["data"]["log_id"] == str(voice.id)
    )
    assert data["media"]["mime_type"] == "audio/x-wav"
    key = api_key_create(tenant=tenant, name="bot", scope="READ", created_by=tenant_user)[1]
    fetched = https_client().get(data["media"]["url"], **bearer(key))
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == sample("ptt").data
    # The tenant's log says a file came and was kept; never its caption.
    lines = [line for line in tenant_log_lines(worker_env, tenant.id) if line.get("event") == "message_in"]
    assert [line["media_kept"] for line in lines] == [True, True, True]
    assert "Saturday" not in "\n".join(map(str, tenant_log_lines(worker_env, tenant.id)))


def test_in_a_group_only_a_rule_for_groups_answers_and_only_when_mentioned(tenant, simulator, start_worker):
    ReplyRule.objects.create(
        tenant=tenant, pattern="hours", reply_text="8 to 5", in_groups=True, only_when_mentioned=True
    )
    # First by priority, but one-to-one only (the default): it must never answer in the group.
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="See our website", priority=1)
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    simulator.action(
        session_id,
        "group-change",
        {"group": GROUP, "action": "add", "participants": ["me"], "name": "Bakery regulars"},
    )
    plain = simulator.incoming(
        session_id, CUSTOMER, "hours, anyone?", group=GROUP, group_name="Bakery regulars"
    )
    mentioned = simulator.incoming(session_id, CUSTOMER, "@15550009999 hours?", group=GROUP, mentions=["me"])
    wait_until(lambda: simulator.sent(session_id), what="the reply in the group")
    wait_until(
        lambda: MessageLog.objects.filter(tenant=tenant, direction="IN").count() == 2, what="both logged"
    )
    assert worker.stop() == 0

    assert [(m["chat"], m["text"]) for m in simulator.sent(session_id)] == [(GROUP, "8 to 5")]
    rows = {m.wa_message_id: m for m in MessageLog.objects.filter(tenant=tenant, direction="IN")}
    assert (rows[plain].group_name, rows[plain].mentions_me, rows[plain].from_number) == (
        "Bakery regulars",
        False,
        CUSTOMER,
    )
    assert rows[mentioned].mentions_me
    timeline = WorkerEvent.objects.filter(tenant=tenant, kind="GROUP").values_list("reason", flat=True)
    assert list(timeline) == [f"This number was added to the group Bakery regulars ({GROUP})"]


def test_a_captioned_photo_sent_by_the_api_and_by_the_portal_arrives_once_each(
    tenant: Tenant, tenant_user, simulator, start_worker, same_media_root
):
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    photo = sample("image").data
    key = api_key_create(tenant=tenant, name="shop", scope="SEND", created_by=tenant_user)[1]
    upload = SimpleUploadedFile("cake.png", photo, content_type="image/png")
    api = https_client().post(
        "/api/portal/tenant/current/messages",
        {"to": "+1 555 123 4567", "text": "Your cake", "file": upload},
        HTTP_IDEMPOTENCY_KEY="order-7",
        **bearer(key),
    )
    assert api.status_code == 201, api.content
    again = https_client().post(
        "/api/portal/tenant/current/messages",
        {"to": "+1 555 123 4567", "text": "Your cake", "file": SimpleUploadedFile("cake.png", photo)},
        HTTP_IDEMPOTENCY_KEY="order-7",
        **bearer(key),
    )
    assert again.status_code == 200  # replayed, not queued twice
    owner = https_client()
    owner.force_login(tenant_user)
    form = owner.get("/portal/send/").context["form"]
    page = owner.post(
        "/portal/send/",
        {
            "to_number": GROUP,
            "text": "For the group",
            "token": form.initial["token"],
            "file": SimpleUploadedFile("menu.pdf", sample("document").data),
        },
    )
    assert page.status_code == 302
    wait_until(lambda: len(simulator.sent(session_id)) == 2, what="both")
    assert worker.stop() == 0
    sent = simulator.sent(session_id)  # after the stop: nothing more went out
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 2  # the replay queued nothing

    assert [(m["chat"], m["text"], m["media"]["type"], m["media"]["size"]) for m in sent] == [
        (CUSTOMER, "Your cake", "image", len(photo)),
        (GROUP, "For the group", "document", len(sample("document").data)),
    ]
    logged = MessageLog.objects.filter(tenant=tenant, direction="OUT").order_by("created_at")
    assert [(m.message_type, m.media_mime_type) for m in logged] == [
        ("image", "image/png"),
        ("document", "application/pdf"),
    ]
    # Each file once on disk, owned by its sent message's log row.
    files = sorted(p for p in same_media_root.rglob("*") if p.is_file())
    assert len(files) == 3  # the photo, its thumbnail, the PDF
    assert all(m.media_file for m in logged)


def test_a_file_over_the_cap_is_refused_with_the_reason_and_nothing_is_kept(
    tenant, tenant_user, same_media_root
):
    tenant.media_max_bytes = 100
    tenant.save()
    key = api_key_create(tenant=tenant, name="shop", scope="SEND", created_by=tenant_user)[1]
    response = https_client().post(
        "/api/portal/tenant/current/messages",
        {"to": "15551234567", "file": SimpleUploadedFile("menu.pdf", sample("document").data)},
        **bearer(key),
    )
    assert response.status_code == 400
    assert "the limit is 100 bytes" in str(response.json())
    assert not same_media_root.exists() or not any(p.is_file() for p in same_media_root.rglob("*"))
