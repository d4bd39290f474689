"""The portal API: every endpoint allowed for the tenant's own user, denied for everyone else."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import Counter, SetupRequest
from tests.helpers.api import as_user
from workers.models import OutboundMessage
from workers.services import outbound_claim_next, outbound_enqueue, outbound_mark_sent, outbound_record_ack

BASE = "/api/portal/tenant/current"
GETS = ["", "/status", "/logs", "/messages", "/setup-requests"]


@pytest.fixture
def own(tenant_user):
    return as_user(tenant_user.email)


@pytest.mark.parametrize("path", GETS)
def test_it_answers_the_tenants_own_user(client, own, tenant, path):
    response = client.get(BASE + path, **own)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", [*GETS, "/qr"])
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 401),
        ({"HTTP_X_USER_EMAIL": "owner@acme.test"}, 401),  # no key
        ({"HTTP_X_PORTAL_KEY": "wrong", "HTTP_X_USER_EMAIL": "owner@acme.test"}, 401),
        ({"HTTP_X_PORTAL_KEY": "", "HTTP_X_USER_EMAIL": "owner@acme.test"}, 401),
        (as_user("nobody@nowhere.test"), 403),
        (as_user("owner@acme.test\r\nX-Injected: yes"), 403),
    ],
)
def test_it_refuses_callers_without_the_key_or_a_known_user(client, tenant_user, path, headers, code):
    response = client.get(BASE + path, **headers)
    assert response.status_code == code
    assert "detail" in response.json()


def test_it_counts_and_logs_refused_keys(client, tenant_user, caplog):
    client.get(BASE, HTTP_X_PORTAL_KEY="wrong", HTTP_X_USER_EMAIL="owner@acme.test")
    client.get(BASE)  # no headers at all: not a key attempt, but still 401
    assert Counter.objects.get(name="whatsapp_portal_api_unauthorized_total").value == 1
    assert any(r.message == "portal API key refused" for r in caplog.records)


def test_it_refuses_staff_who_have_no_tenant(client, staff_user):
    assert client.get(BASE, **as_user(staff_user.email)).status_code == 403


def test_it_refuses_a_key_when_none_is_configured(client, tenant_user, settings):
    settings.PORTAL_INTERNAL_KEY = ""
    assert client.get(BASE, **as_user(tenant_user.email, key="")).status_code == 401


def test_it_works_for_a_signed_in_tenant_user_without_the_key(client, tenant_user):
    client.force_login(tenant_user)
    assert client.get(BASE + "/status").json()["session"]["state"] == "STOPPED"


def test_it_describes_the_user_tenant_and_requests(client, own, tenant, tenant_user, other_tenant):
    services.setup_request_create(tenant=tenant, user=tenant_user, notes="please")
    body = client.get(BASE, **own).json()
    assert body["tenant"]["id"] == str(tenant.id)
    assert body["user"]["email"] == "owner@acme.test"
    assert [r["notes"] for r in body["setup_requests"]] == ["please"]


def test_it_shows_the_status_with_heartbeat_age(client, own, tenant):
    services.session_heartbeat(session=tenant.session)
    body = client.get(BASE + "/status", **own).json()
    assert body["session"]["heartbeat_age_seconds"] in (0, 1)
    assert body["worker"]["status"] == "STOPPED"


def test_it_gives_the_qr_only_while_one_is_shown(client, own, tenant):
    response = client.get(BASE + "/qr", **own)
    assert response.status_code == 404
    assert "not running" in response.json()["detail"]
    services.session_record_qr(
        session=tenant.session, value="ref,a,b,c", data_uri="data:image/png;base64,QUJD"
    )
    body = client.get(BASE + "/qr", **own).json()
    assert body["data_uri"] == "data:image/png;base64,QUJD"
    assert (body["refresh_count"], body["max_refreshes"]) == (1, 6)
    assert "ref,a,b,c" not in str(body)  # the raw value stays in the database
    services.session_set_state(session=tenant.session, state="CONNECTED")
    assert client.get(BASE + "/qr", **own).json()["detail"] == "already connected: no QR code is needed"


def test_it_queues_a_message_once_per_idempotency_key(client, own, tenant):
    body = {"to": "+1 555 123 4567", "text": "Your order is ready 🥐"}
    first = client.post(
        BASE + "/messages", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **own
    )
    again = client.post(
        BASE + "/messages", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **own
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["to_number"] == "15551234567"
    clash = client.post(
        BASE + "/messages",
        {**body, "text": "other"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        **own,
    )
    assert clash.status_code == 409
    assert OutboundMessage.objects.count() == 1
    status = client.get(f"{BASE}/messages/{first.json()['id']}", **own).json()
    assert status["status"] == "QUEUED"


def test_a_sent_message_gives_whatsapps_latest_ack_in_both_apis(client, own, tenant):
    queued, _ = outbound_enqueue(tenant=tenant, to_number="15551234567", text="ready")
    message = outbound_claim_next(tenant=tenant)
    assert message is not None
    outbound_mark_sent(message=message, wa_message_id="true_15551234567@c.us_X1", ack=1)
    read_at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    outbound_record_ack(tenant=tenant, wa_message_ids=["true_15551234567@c.us_X1"], ack=3, at=read_at)

    status = client.get(f"{BASE}/messages/{queued.id}", **own).json()
    assert (status["status"], status["ack"]) == ("SENT", 3)
    assert status["ack_at"].startswith("2026-12-06T12:00:00")
    (listed,) = client.get(BASE + "/messages", **own).json()
    assert (listed["id"], listed["ack"]) == (str(queued.id), 3)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": "12", "text": "hi"}, "7 to 15 digits"),
        ({"to": "15551234567", "text": "   "}, "empty"),
        ({"to": "15551234567", "text": "x" * 4097}, "4096"),
        ({"to": "15551234567"}, "empty"),  # neither text nor a file
    ],
)
def test_it_refuses_bad_messages_clearly_and_queues_nothing(client, own, body, message):
    response = client.post(BASE + "/messages", body, content_type="application/json", **own)
    assert response.status_code == 400
    assert message in str(response.json())
    assert not OutboundMessage.objects.exists()


def test_it_refuses_malformed_json(client, own):
    response = client.post(BASE + "/messages", "{not json", content_type="application/json", **own)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_it_creates_a_setup_request(client, own, tenant):
    response = client.post(
        BASE + "/setup-requests", {"notes": "two numbers"}, content_type="application/json", **own
    )
    assert response.status_code == 201
    assert SetupRequest.objects.get().tenant == tenant


def test_a_tenant_never_reaches_another_tenants_data(client, own, tenant, other_tenant, other_user):
    theirs, _ = outbound_enqueue(tenant=other_tenant, to_number="15550000001", text="their secret")
    services.message_log_record(
        tenant=other_tenant, direction="IN", from_number="15550000001", to_number="", text="their log"
    )
    services.setup_request_create(tenant=other_tenant, user=other_user, notes="their request")
    services.session_record_qr(
        session=other_tenant.session, value="x", data_uri="data:image/png;base64,VEhFSVI="
    )
    assert client.get(f"{BASE}/messages/{theirs.id}", **own).status_code == 404
    everything = "".join(client.get(BASE + path, **own).content.decode() for path in [*GETS, "/qr"])
    for secret in ["their secret", "their log", "their request", "VEhFSVI=", str(other_tenant.id)]:
        assert secret not in everything
    # Their own user sees their own data, not ours.
    assert client.get(BASE, **as_user(other_user.email)).json()["tenant"]["id"] == str(other_tenant.id)


def test_validation_errors_from_services_are_400s(client, own, monkeypatch):
    from portal.api import views as api

    def refuse(**kwargs):
        raise ValidationError("A user can only ask for setup of their own tenant.")

    monkeypatch.setattr(api, "setup_request_create", refuse)
    response = client.post(BASE + "/setup-requests", {}, content_type="application/json", **own)
    assert response.status_code == 400
    assert response.json()["detail"] == "A user can only ask for setup of their own tenant."


def test_it_refuses_an_idempotency_key_longer_than_it_can_store(client, own):
    body = {"to": "+15551234567", "text": "hello"}
    prefix = "k" * 200
    fits = client.post(
        BASE + "/messages", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=prefix, **own
    )
    assert fits.status_code == 201
    # Cut to 200, this different key would have replayed the first message.
    longer = client.post(
        BASE + "/messages", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=prefix + "-2", **own
    )
    assert longer.status_code == 400
    assert longer.json() == {"Idempotency-Key": ["at most 200 characters; got 202"]}
    assert OutboundMessage.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/api/", "/api/nothing-here", "/api/portal/tenant/nope", "/api/admin/tenants/x/y/z"]
)
def test_unmatched_api_paths_answer_json_404(client, own, path):
    response = client.get(path, **own)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"No API endpoint at {path}."}


def test_the_status_words_the_last_problem_without_internals(client, own, tenant):
    services.worker_record_error(
        worker=tenant.worker, reason="crashed: chrome not reachable at 10.0.0.7:9222"
    )
    last_error = client.get(BASE + "/status", **own).json()["worker"]["last_error"]
    assert "10.0.0.7" not in last_error
    assert last_error.startswith("It stopped because of a problem")
