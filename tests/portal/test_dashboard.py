import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tenants import services
from tenants.models import WhatsAppSession, WorkerEvent
from workers.qr import qr_png_data_uri

URL = reverse("portal:dashboard")


def session_of(tenant) -> WhatsAppSession:
    return WhatsAppSession.objects.get(tenant=tenant)


def test_it_tells_a_new_tenant_that_nothing_is_running_yet(owner):
    body = owner.get(URL).content.decode()
    assert ">Not running<" in body
    assert START_FORM.search(body).group(1) == "Show a new code"  # its first code, from here
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
    assert config["qrCount"] == "Code {n} of {max}"
    assert "/static/portal/dashboard.js" in body


def test_it_tells_the_live_script_what_it_rendered(owner, tenant):
    # The script compares this with the status API and fetches the page again on a change.
    services.worker_record_error(worker=tenant.worker, reason="WhatsApp is open in another window")
    body = owner.get(URL).content.decode()
    changed = int(session_of(tenant).state_changed_at.timestamp())
    # The error's text as a 31-based hash of its UTF-16 code units, as the script computes it.
    assert f'data-rendered="STOPPED|{changed}|STOPPED||NEW|{JAVA_HASH_OF_THE_ERROR}|none"' in body
    assert "another window" not in body.split("data-rendered=")[1].split(">")[0]


# "WhatsApp is open in another window".hashCode() in Java, read as unsigned.
JAVA_HASH_OF_THE_ERROR = 3586043482


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


def problem_of(body: str) -> tuple[str, str]:
    """The dashboard's "Last problem" term and what it says, tags stripped."""
    term, value = re.search(
        r'<dt data-field="problem-term">(.*?)</dt>\s*<dd data-field="problem">(.*?)</dd>', body, re.S
    ).groups()
    return term, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", value)).strip()


def test_it_shows_the_last_problem_with_the_time_it_happened(owner, tenant):
    services.worker_record_error(worker=tenant.worker, reason="browser lost: chrome not reachable")
    at = timezone.localtime(WorkerEvent.objects.get(tenant=tenant, kind="ERROR").created_at)
    term, value = problem_of(owner.get(URL).content.decode())
    assert term == "Last problem"
    assert value == f"Our browser for WhatsApp stopped responding; we restarted it. today at {at:%H:%M}"


def test_it_marks_the_last_problem_past_once_the_session_connected_again(owner, tenant):
    services.worker_record_error(worker=tenant.worker, reason="browser lost: chrome not reachable")
    services.session_set_state(session=session_of(tenant), state="CONNECTED", reason="chat list shown")
    term, value = problem_of(owner.get(URL).content.decode())
    assert term == "Last problem (resolved)"
    assert value.startswith("Our browser for WhatsApp stopped responding; we restarted it. today at ")


def test_it_marks_the_last_problem_past_after_a_clean_stop(owner, tenant):
    services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="session connected")
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crashed: KeyError: 'x'")
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason="stopped by staff@x.test")
    assert problem_of(owner.get(URL).content.decode())[0] == "Last problem (resolved)"


def test_it_keeps_a_problem_current_while_the_session_has_not_recovered(owner, tenant):
    services.session_set_state(session=session_of(tenant), state="CONNECTED", reason="chat list shown")
    services.worker_record_error(worker=tenant.worker, reason="WhatsApp is open in another window")
    assert problem_of(owner.get(URL).content.decode())[0] == "Last problem"


def test_it_does_not_say_we_were_alerted_about_a_kill_that_sent_no_alert(owner, tenant):
    reason = "the previous worker process (pid 4242) ended without stopping: killed or crashed"
    services.worker_record_error(worker=tenant.worker, reason=reason)
    body = owner.get(URL).content.decode()
    assert "ended suddenly" in problem_of(body)[1]
    assert "alerted" not in body


def test_it_says_so_when_the_worker_stopped_by_a_problem(owner, tenant):
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crashed: KeyError: 'x'")
    body = owner.get(URL).content.decode()
    assert "Stopped by a problem — we have been alerted" in body


def test_it_speaks_of_the_bot_not_of_a_connection_process(owner):
    body = owner.get(URL).content.decode()
    assert "Connection process" not in body
    assert ">Your bot<" in body


def stop_for_qr_timeout(tenant) -> None:
    """What the worker records when six codes went by unscanned (runtime's _stop_for_qr)."""
    worker, session = tenant.worker, session_of(tenant)
    services.worker_set_status(worker=worker, status="STARTING", reason="worker process started", pid=7)
    services.session_set_state(session=session, state="STARTING", reason="opening WhatsApp Web")
    for n in range(6):
        services.session_record_qr(session=session, value=f"code-{n}", data_uri=qr_png_data_uri(f"code-{n}"))
    reason = "QR code not scanned after 6 codes; start the worker again for new codes"
    services.worker_set_status(worker=worker, status="STOPPING", reason=reason)
    services.session_set_state(session=session, state="STOPPED", reason=reason)
    services.worker_set_status(worker=worker, status="STOPPED", reason=reason)


START_FORM = re.compile(
    r'<form method="post" action="/portal/start/"[^>]*>\s*'
    r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">\s*'
    r'<button type="submit" class="button">([^<]+)</button>'
)


def test_it_says_no_code_was_scanned_in_time_and_offers_a_new_one(owner, tenant):
    stop_for_qr_timeout(tenant)
    body = owner.get(URL).content.decode()
    assert ">No code was scanned in time<" in body
    assert "ask us to start it" not in body
    assert START_FORM.search(body).group(1) == "Show a new code"


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("LOGGED_OUT", "logged out from the phone; scan a new QR code to link again"),
        ("AUTH_FAILURE", "authentication failed: the page asked for a new QR code after the scan"),
    ],
)
def test_it_offers_a_new_code_when_a_stopped_bot_needs_a_new_login(owner, tenant, state, reason):
    services.session_set_state(session=session_of(tenant), state=state, reason=reason)
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="no heartbeat for 95 s")
    assert START_FORM.search(owner.get(URL).content.decode()).group(1) == "Show a new code"


def test_it_offers_to_start_a_bot_that_was_stopped(owner, tenant):
    services.tenant_set_status(tenant=tenant, status="ACTIVE", reason="session connected")  # linked before
    services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="session connected")
    services.session_set_state(session=session_of(tenant), state="STOPPED", reason="stopped by staff@x.test")
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason="stopped by staff@x.test")
    body = owner.get(URL).content.decode()
    assert START_FORM.search(body).group(1) == "Start again"


@pytest.mark.parametrize("status", ["STARTING", "RUNNING", "STOPPING"])
def test_it_offers_no_start_while_the_bot_runs(owner, tenant, status):
    services.worker_set_status(worker=tenant.worker, status=status, reason="worker process started")
    assert "/portal/start/" not in owner.get(URL).content.decode()


def test_it_offers_no_start_to_a_suspended_account(owner, tenant):
    stop_for_qr_timeout(tenant)
    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="suspended by staff@x.test")
    body = owner.get(URL).content.decode()
    assert "/portal/start/" not in body
    assert "this account is suspended" in body
