"""The operations dashboard: who may see it, what comes first, and the numbers it shows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tenants import services
from tenants.admin.overview import (
    ATTENTION_ERROR,
    ATTENTION_NO_SCAN,
    ATTENTION_NONE,
    ATTENTION_SESSION,
    ATTENTION_STALE,
    attention,
    operations_overview,
)
from tenants.history import recovery_from_events, state_at, uptime_from_events
from tenants.models import MessageLog, Tenant, WorkerEvent, WorkerProcess
from tenants.selectors import hour_buckets, session_uptime

URL = "/admin/operations/"
DAY, WEEK = timedelta(hours=24), timedelta(days=7)


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def tile_names(html: str) -> list[str]:
    return re.findall(r'<div class="tile-head[^"]*"><a href="[^"]+" title="[^"]*">([^<]*)</a>', html)


def event(
    tenant: Tenant, kind: str, new_value: str, at, old_value: str = "", reason: str = ""
) -> WorkerEvent:
    return WorkerEvent.objects.create(
        tenant=tenant, kind=kind, old_value=old_value, new_value=new_value, reason=reason, created_at=at
    )


def running(tenant: Tenant, *, heartbeat_age: timedelta, state: str = "CONNECTED") -> None:
    services.worker_set_status(worker=tenant.worker, status="RUNNING")
    services.session_set_state(session=tenant.session, state=state)
    services.session_heartbeat(session=tenant.session, at=timezone.now() - heartbeat_age)


# --- Access ------------------------------------------------------------------------------------


def test_it_shows_the_dashboard_to_staff(client, staff_user, tenant):
    html = page(client, staff_user)
    assert "<title>Operations dashboard" in html
    assert "Acme Bakery" in html


def test_it_sends_anonymous_users_to_the_admin_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_it_sends_tenant_users_to_the_admin_login(client, tenant_user):
    client.force_login(tenant_user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_it_is_linked_from_the_admin_index(client, staff_user):
    client.force_login(staff_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{URL}">Operations dashboard</a>' in html


# --- Tiles and their order ---------------------------------------------------------------------


def test_it_puts_errors_then_troubled_sessions_then_stale_workers_before_healthy_ones(
    client, staff_user, settings
):
    settings.STALE_WORKER_THRESHOLD_SECONDS = 120
    running(services.tenant_create(name="Aardvark healthy"), heartbeat_age=timedelta(seconds=5))
    services.tenant_create(name="Beaver stopped")
    running(services.tenant_create(name="Cobra stale"), heartbeat_age=timedelta(minutes=10))
    running(
        services.tenant_create(name="Dingo degraded"), heartbeat_age=timedelta(seconds=5), state="DEGRADED"
    )
    errored = services.tenant_create(name="Zebra tenant error")
    running(errored, heartbeat_age=timedelta(seconds=5))
    services.tenant_set_status(tenant=errored, status="ERROR", reason="logged out")
    crashed = services.tenant_create(name="Yak worker error")
    services.worker_set_status(worker=crashed.worker, status="ERROR", reason="chromium crashed")

    html = page(client, staff_user)

    assert tile_names(html) == [
        "Yak worker error",
        "Zebra tenant error",
        "Dingo degraded",
        "Cobra stale",
        "Aardvark healthy",
        "Beaver stopped",
    ]
    assert re.search(r'tile-bad">\s*<div class="tile-head badge-bad"><a [^>]*>Yak worker error', html)
    assert re.search(r'tile-warn">\s*<div class="tile-head badge-warn"><a [^>]*>Cobra stale', html)
    assert re.search(r'tile-ok">\s*<div class="tile-head badge-ok"><a [^>]*>Aardvark healthy', html)


# What the worker records when its codes went by unscanned (workers/runtime.py's _stop_for_qr).
QR_STOP = "QR code not scanned after 6 codes; start the worker again for new codes"


def show_codes(tenant: Tenant, count: int = 6) -> None:
    services.worker_set_status(
        worker=tenant.worker, status="STARTING", reason="worker process started", pid=7
    )
    services.session_set_state(session=tenant.session, state="STARTING", reason="opening WhatsApp Web")
    for n in range(count):
        services.session_record_qr(
            session=tenant.session, value=f"code-{n}", data_uri="data:image/png;base64,"
        )


def stop_worker(tenant: Tenant, reason: str) -> None:
    services.worker_set_status(worker=tenant.worker, status="STOPPING", reason=reason)
    services.session_set_state(session=tenant.session, state="STOPPED", reason=reason)
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason=reason)


def test_it_puts_a_worker_stopped_because_no_code_was_scanned_under_needs_a_look(client, staff_user):
    running(services.tenant_create(name="Aardvark healthy"), heartbeat_age=timedelta(seconds=5))
    by_staff = services.tenant_create(name="Beaver stopped by staff")
    show_codes(by_staff, 2)
    stop_worker(by_staff, "stopped on request (SIGTERM/SIGINT)")
    unscanned = services.tenant_create(name="Zebra never scanned")
    show_codes(unscanned)
    stop_worker(unscanned, QR_STOP)

    html = page(client, staff_user)

    assert tile_names(html) == ["Zebra never scanned", "Aardvark healthy", "Beaver stopped by staff"]
    assert re.search(
        r'tile-warn">\s*<div class="tile-head badge-warn"><a [^>]*>Zebra never scanned</a>'
        r'<span class="tile-why">no scan</span>',
        html,
    )
    assert html.count('<dd class="tile-stop">No code was scanned in time</dd>') == 1
    assert 'badge-warn">no scan 1</span>' in html


def test_it_ranks_a_stop_for_want_of_a_scan_after_stale_workers_and_before_the_rest():
    def rank(worker: str, reason: str, age: timedelta | None = None) -> int:
        return attention(
            tenant_status="NEW",
            worker_status=worker,
            session_state="STOPPED",
            heartbeat_age=age,
            stale_after=timedelta(seconds=120),
            stop_reason=reason,
        )

    assert rank("STOPPED", QR_STOP) == ATTENTION_NO_SCAN
    assert ATTENTION_STALE < ATTENTION_NO_SCAN < ATTENTION_NONE
    assert rank("STOPPED", "stopped by staff@platform.test") == ATTENTION_NONE
    assert rank("STARTING", QR_STOP) == ATTENTION_NONE  # started again since


def test_it_says_waiting_for_qr_scan_rather_than_starting_while_a_code_is_shown(client, staff_user, tenant):
    show_codes(tenant, 1)
    html = page(client, staff_user)
    assert '<dt>Worker</dt><dd><span class="badge badge-info">Waiting for QR scan</span></dd>' in html
    assert 'badge-info">Starting</span>' not in html
    assert 'badge-info">Starting 0</span>' in html
    assert 'badge-info">Waiting for QR scan 1</span>' in html


def test_it_shows_heartbeat_age_memory_and_a_logs_link_on_each_tile(client, staff_user, tenant):
    running(tenant, heartbeat_age=timedelta(seconds=42))
    WorkerProcess.objects.filter(pk=tenant.worker.pk).update(browser_memory_mb=312.4)
    html = page(client, staff_user)
    assert "<dt>Heartbeat</dt><dd>42 s ago</dd>" in html or "<dt>Heartbeat</dt><dd>43 s ago</dd>" in html
    assert "<dd>312 MB</dd>" in html
    assert f'<a href="/admin/tenants/tenant/{tenant.id}/logs/">Logs</a>' in html
    assert 'badge-ok">Running</span>' in html
    assert 'badge-ok">Connected</span>' in html


def test_it_counts_workers_by_status(client, staff_user, tenant, other_tenant):
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crashed")
    html = page(client, staff_user)
    assert 'badge-bad">Error 1</span>' in html
    assert 'badge-off">Stopped 1</span>' in html
    assert 'badge-ok">Running 0</span>' in html


def test_it_escapes_tenant_names(client, staff_user):
    tenant = services.tenant_create(name="<script>alert('x')</script> & Co")
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="<img src=x onerror=alert(1)>")
    html = page(client, staff_user)
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the recent error's reason


# --- Uptime --------------------------------------------------------------------------------------


@pytest.fixture
def now():
    return timezone.now()


def scripted_sessions(now) -> dict[str, Tenant]:
    """Timelines that cross the 7-day and 24-hour window edges in different ways."""
    long_lived = services.tenant_create(name="Long lived")
    for age, state in [
        (timedelta(days=10), "CONNECTED"),
        (timedelta(days=3), "DISCONNECTED"),
        (timedelta(days=2), "CONNECTED"),
        (timedelta(hours=5), "PHONE_UNREACHABLE"),
        (timedelta(hours=4), "CONNECTED"),
    ]:
        event(long_lived, "SESSION_STATE", state, now - age)
    newcomer = services.tenant_create(name="Newcomer")
    event(newcomer, "SESSION_STATE", "QR", now - timedelta(hours=30))
    event(newcomer, "SESSION_STATE", "CONNECTED", now - timedelta(hours=20))
    event(newcomer, "SESSION_STATE", "DEGRADED", now - timedelta(hours=1))
    dormant = services.tenant_create(name="Dormant")
    event(dormant, "SESSION_STATE", "CONNECTED", now - timedelta(days=9))
    event(dormant, "SESSION_STATE", "STOPPED", now - timedelta(days=8))
    # Two changes at the same instant: the later row wins, as in session_uptime.
    tie = services.tenant_create(name="Tie")
    moment = now - timedelta(hours=12)
    event(tie, "SESSION_STATE", "DISCONNECTED", moment)
    event(tie, "SESSION_STATE", "CONNECTED", moment)
    return {"long_lived": long_lived, "newcomer": newcomer, "dormant": dormant, "tie": tie, "none": None}


def test_it_matches_session_uptime_for_every_tenant(db, now):
    tenants = scripted_sessions(now)
    tenants["none"] = services.tenant_create(name="No events")
    rows = {row.tenant_id: row for row in operations_overview(now=now).tenants}
    for tenant in tenants.values():
        row = rows[tenant.id]
        for window, value in [(DAY, row.uptime_day), (WEEK, row.uptime_week)]:
            expected = session_uptime(tenant=tenant, window=window, now=now)
            assert value == pytest.approx(expected), (tenant.name, window)


def test_it_computes_uptime_from_the_scripted_timeline(db, now):
    tenants = scripted_sessions(now)
    rows = {row.tenant_id: row for row in operations_overview(now=now).tenants}
    long_lived = rows[tenants["long_lived"].id]
    assert long_lived.uptime_day == pytest.approx(23 / 24)  # one hour phone unreachable
    assert long_lived.uptime_week == pytest.approx((7 * 24 - 24 - 1) / (7 * 24))
    newcomer = rows[tenants["newcomer"].id]
    assert newcomer.uptime_day == pytest.approx(19 / 24)
    assert newcomer.uptime_week == pytest.approx(19 / 30)  # counted from its first state
    assert rows[tenants["dormant"].id].uptime_day == 0
    assert rows[tenants["tie"].id].uptime_day == 1  # connected ever since its first state


def test_it_shows_uptime_on_the_tile(client, staff_user, now):
    scripted_sessions(now)
    html = page(client, staff_user)
    uptime = (
        '<span class="nw">95.8 % <small>24 h</small></span> <span class="nw">85.1 % <small>7 d</small></span>'
    )
    assert f"<dt>Uptime</dt><dd>{uptime}</dd>" in html


def test_it_says_no_data_for_a_tenant_with_no_session_history(client, staff_user, tenant):
    html = page(client, staff_user)
    assert (
        '<span class="nw">no data <small>24 h</small></span> <span class="nw">no data <small>7 d</small>'
        in html
    )


def test_it_returns_none_for_uptime_without_any_state(now):
    assert uptime_from_events(None, [], now - DAY, now) is None


def test_it_splits_events_at_the_window_start(now):
    events = [(now - timedelta(hours=30), "QR"), (now - timedelta(hours=2), "CONNECTED")]
    assert state_at("STOPPED", events, now - DAY) == ("QR", events[1:])
    assert state_at("STOPPED", events, now) == ("CONNECTED", [])
    assert state_at(None, events, now - WEEK) == (None, events)


# --- Restarts and time to recover -------------------------------------------------------------


def scripted_failures(tenant: Tenant, now) -> None:
    minutes = lambda n: now - timedelta(minutes=n)  # noqa: E731
    event(tenant, "WORKER_STATUS", "ERROR", now - timedelta(days=8), "RUNNING")  # outside the week
    event(tenant, "WORKER_STATUS", "RUNNING", now - timedelta(days=8) + timedelta(hours=1), "ERROR")
    event(tenant, "WORKER_STATUS", "RUNNING", minutes(600), "STARTING")
    event(tenant, "WORKER_STATUS", "ERROR", minutes(500), "RUNNING")  # crash...
    event(tenant, "WORKER_STATUS", "STARTING", minutes(498), "ERROR")
    event(tenant, "WORKER_STATUS", "RUNNING", minutes(496), "STARTING")  # ...back in 4 min
    event(tenant, "STALE_MARKED", "ERROR", minutes(300), "RUNNING")  # silent...
    event(tenant, "WORKER_STATUS", "RUNNING", minutes(290), "ERROR")  # ...back in 10 min
    event(tenant, "ERROR", "", minutes(200))  # survived, not a restart
    event(tenant, "WORKER_STATUS", "ERROR", minutes(30), "RUNNING")  # still down


def test_it_counts_restarts_and_the_mean_time_to_recover(db, tenant, now):
    scripted_failures(tenant, now)
    (row,) = operations_overview(now=now).tenants
    assert row.recovery.failures == 3
    assert row.recovery.recovered == 2
    assert row.recovery.mean_time_to_recover == timedelta(minutes=7)
    assert row.recovery.down_since == now - timedelta(minutes=30)


def test_it_shows_restarts_on_the_tile(client, staff_user, tenant, now):
    scripted_failures(tenant, now)
    assert "<dd>3, back in 7 min on average; down for 30 min now</dd>" in page(client, staff_user)


def test_it_measures_an_outage_from_its_first_failure(now):
    at = lambda n: now - timedelta(minutes=n)  # noqa: E731
    recovery = recovery_from_events(
        [
            (at(60), "STALE_MARKED", "ERROR"),
            (at(50), "WORKER_STATUS", "ERROR"),  # failed again while starting back up
            (at(40), "WORKER_STATUS", "RUNNING"),
        ]
    )
    assert (recovery.failures, recovery.recovered) == (2, 1)
    assert recovery.mean_time_to_recover == timedelta(minutes=20)
    assert recovery.down_since is None


def test_it_ranks_tenants_by_what_needs_attention():
    stale_after = timedelta(seconds=120)
    fresh, old = timedelta(seconds=5), timedelta(seconds=121)

    def rank(tenant_status="ACTIVE", worker="RUNNING", session="CONNECTED", age=fresh):
        return attention(
            tenant_status=tenant_status,
            worker_status=worker,
            session_state=session,
            heartbeat_age=age,
            stale_after=stale_after,
        )

    assert rank(worker="ERROR") == ATTENTION_ERROR
    assert rank(tenant_status="ERROR", session="LOGGED_OUT") == ATTENTION_ERROR
    assert rank(session="CONFLICT") == ATTENTION_SESSION
    assert rank(age=old) == ATTENTION_STALE
    assert rank(age=None) == ATTENTION_STALE
    assert rank(worker="STOPPED", session="STOPPED", age=old) == ATTENTION_NONE
    assert rank() == ATTENTION_NONE


# --- Messages per hour ---------------------------------------------------------------------------


def message(tenant: Tenant, direction: str, at) -> None:
    MessageLog.objects.create(tenant=tenant, direction=direction, created_at=at)


def test_it_draws_a_bar_per_hour_with_the_counts(client, staff_user, tenant):
    this_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    two_ago = this_hour - timedelta(hours=2)
    for minute in (1, 20, 59):
        message(tenant, "IN", two_ago + timedelta(minutes=minute))
    message(tenant, "OUT", two_ago + timedelta(minutes=30))
    message(tenant, "IN", this_hour)
    message(tenant, "IN", this_hour - timedelta(hours=30))  # before the chart

    html = page(client, staff_user)

    start = html.index('<svg id="messages-chart"')
    svg = html[start : html.index("</svg>", start)]
    assert '<title id="messages-chart-title">Messages per hour, last 24 hours</title>' in svg
    bars_in = re.findall(r'<rect class="bar-in" [^>]*data-count="(\d+)"><title>([^<]*)</title>', svg)
    bars_out = re.findall(r'<rect class="bar-out" [^>]*data-count="(\d+)"><title>([^<]*)</title>', svg)
    assert len(bars_in) == len(bars_out) == 24
    label = f"{two_ago:%H:%M} to {two_ago + timedelta(hours=1):%H:%M}"
    assert bars_in[21] == ("3", f"{label}: 3 incoming")
    assert bars_out[21] == ("1", f"{label}: 1 outgoing")
    assert bars_in[23][0] == "1"
    assert sum(int(count) for count, _ in bars_in) == 4
    assert "4 incoming and 1 outgoing in all" in svg
    assert f'<tr><th scope="row">{two_ago:%H:%M}</th><td>3</td><td>1</td></tr>' in html


def test_it_draws_the_busiest_hour_tallest(client, staff_user, tenant):
    this_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    for _ in range(4):
        message(tenant, "IN", this_hour - timedelta(hours=5))
    message(tenant, "IN", this_hour - timedelta(hours=4))
    html = page(client, staff_user)
    heights = [float(h) for h in re.findall(r'<rect class="bar-in" [^>]*height="([\d.]+)"', html)]
    assert heights[18] > heights[19] > 0 == heights[20]


def test_it_fills_the_hours_without_messages_with_zeros(now):
    first = now.replace(minute=0, second=0, microsecond=0)
    buckets = hour_buckets([(first + timedelta(hours=1), "OUT", 5)], first_hour=first, hours=3)
    assert [(b.incoming, b.outgoing) for b in buckets] == [(0, 0), (0, 5), (0, 0)]


# --- Recent errors -------------------------------------------------------------------------------


def test_it_lists_the_last_twenty_errors_with_a_link_to_the_logs(client, staff_user, tenant, now):
    for n in range(25):
        event(tenant, "ERROR", "", now - timedelta(minutes=n), reason=f"selector missing #{n:02d}")
    event(tenant, "WORKER_STATUS", "STOPPED", now)  # not an error
    html = page(client, staff_user)
    errors = html[html.index("Recent errors") :]
    assert "selector missing #00" in errors
    assert "selector missing #19" in errors
    assert "selector missing #20" not in errors
    assert errors.count(f'href="/admin/tenants/tenant/{tenant.id}/logs/"') == 20


# --- Cost ------------------------------------------------------------------------------------


def add_tenants(count: int, now) -> None:
    for i in range(count):
        tenant = services.tenant_create(name=f"Tenant {i:04d}")
        event(tenant, "SESSION_STATE", "CONNECTED", now - timedelta(days=8))
        event(tenant, "SESSION_STATE", "DISCONNECTED", now - timedelta(hours=3))
        event(tenant, "WORKER_STATUS", "ERROR", now - timedelta(hours=2), "RUNNING")
        event(tenant, "WORKER_STATUS", "RUNNING", now - timedelta(hours=1), "ERROR")
        message(tenant, "IN", now - timedelta(minutes=5))


def test_it_runs_the_same_number_of_queries_for_10_and_200_tenants(client, staff_user, now):
    client.force_login(staff_user)
    add_tenants(10, now)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    add_tenants(190, now)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.content.decode().count('<li class="tile ') == 200
    assert len(many) == len(few)
