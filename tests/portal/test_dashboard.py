import json
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tenants import services
from tenants.models import WhatsAppSession
from workers.qr import qr_png_data_uri

URL = reverse("portal:dashboard")


def session_of(tenant) -> WhatsAppSession:
    return WhatsAppSession.objects.get(tenant=tenant)


def test_it_tells_a_new_tenant_that_nothing_is_running_yet(owner):
    body = owner.get(URL).content.decode()
    assert "Not running — ask us to start it" in body
    assert "never" in body  # no heartbeat yet
    assert "data:image/png" not in body


def test_it_shows_the_qr_code_to_scan_with_its_number_and_countdown(owner, tenant, settings):
    settings.QR_MAX_REFRESHES, settings.QR_EXPECTED_LIFETIME_SECONDS = 6, 20
    session = session_of(tenant)
    services.session_record_qr(session=session, value="first", data_uri=qr_png_data_uri("first"))
    services.session_record_qr(session=session, value="second", data_uri=qr_png_data_uri("second"))
    body = owner.get(URL).content.decode()
    assert "Scan the QR code with your phone" in body
    assert "Linked devices" in body
    assert f'src="{qr_png_data_uri("second")}"' in body
    assert "Code 2 of 6" in body
    assert re.search(r"New code in (19|20) s", body)


def test_it_shows_connected_with_the_age_of_the_last_heartbeat(owner, tenant):
    session = session_of(tenant)
    services.session_set_state(session=session, state="CONNECTED", reason="chat list shown")
    services.session_heartbeat(session=session, at=timezone.now() - timedelta(seconds=42))
    services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="session connected")
    body = owner.get(URL).content.decode()
    assert ">Connected<" in body
    assert "42 s ago" in body or "43 s ago" in body
    assert "Running" in body
    assert "data:image/png" not in body


def test_it_says_since_when_it_is_disconnected(owner, tenant):
    session = session_of(tenant)
    services.session_set_state(session=session, state="DISCONNECTED", reason="network")
    since = timezone.localtime(session_of(tenant).state_changed_at)
    assert f"Disconnected since {since:%H:%M} — we are reconnecting" in owner.get(URL).content.decode()


def test_it_words_the_last_problem_without_internals(owner, tenant):
    services.worker_record_error(worker=tenant.worker, reason="crashed: KeyError: 'db-host-7'")
    body = owner.get(URL).content.decode()
    assert "a problem on our side" in body
    assert "db-host-7" not in body


def test_it_gives_the_live_script_its_api_and_the_servers_words(owner):
    body = owner.get(URL).content.decode()
    config = json.loads(
        re.search(r'id="dashboard-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["statusUrl"] == "/api/portal/tenant/current/status"
    assert config["qrUrl"] == "/api/portal/tenant/current/qr"
    assert config["states"]["PHONE_UNREACHABLE"]["headline"] == (
        "Your phone is offline — messages will arrive when it's back"
    )
    assert "/static/portal/dashboard.js" in body


def test_it_shows_the_tenant_name_escaped(owner, tenant):
    tenant.name = "<b>Bakery</b>"
    tenant.save(update_fields=["name"])
    body = owner.get(URL).content.decode()
    assert "&lt;b&gt;Bakery&lt;/b&gt;" in body
    assert "<b>Bakery" not in body


def test_it_can_poll_the_status_and_qr_the_script_reads_with_the_portal_session(owner, tenant):
    status = owner.get("/api/portal/tenant/current/status")
    assert status.status_code == 200
    data = status.json()
    assert {"state", "state_changed_at", "heartbeat_age_seconds", "qr_refresh_count"} <= set(data["session"])
    assert {"status", "last_error"} <= set(data["worker"])
    assert owner.get("/api/portal/tenant/current/qr").status_code == 404
    services.session_record_qr(session=session_of(tenant), value="v", data_uri=qr_png_data_uri("v"))
    qr = owner.get("/api/portal/tenant/current/qr").json()
    assert {"data_uri", "age_seconds", "refresh_count", "max_refreshes", "expected_lifetime_seconds"} <= set(
        qr
    )
