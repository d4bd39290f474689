import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tenants import services
from tenants.models import WorkerEvent

URL = reverse("portal:history")


def record(tenant, kind, new, *, minutes_ago, reason="", old="", now=None):
    WorkerEvent.objects.create(
        tenant=tenant,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        created_at=(now or timezone.now()) - timedelta(minutes=minutes_ago),
    )


def test_it_says_no_data_yet_before_anything_happened(owner, tenant):
    body = owner.get(URL).content.decode()
    assert body.count("no data yet") == 1


def test_it_tells_the_session_story_in_plain_words_with_durations_and_uptime(owner, tenant):
    Kind = WorkerEvent.Kind
    WorkerEvent.objects.filter(tenant=tenant).delete()
    now = timezone.now()  # one clock for the story, so the offline hour is exactly an hour
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=600, reason="chat list shown", now=now)
    record(
        tenant,
        Kind.SESSION_STATE,
        "PHONE_UNREACHABLE",
        minutes_ago=120,
        reason="WhatsApp is trying to reach the phone",
        now=now,
    )
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=60, reason="phone reachable again", now=now)
    record(tenant, Kind.QR_ISSUED, "1", minutes_ago=30, now=now)  # not part of the story
    body = owner.get(URL).content.decode()
    assert "Phone offline" in body and "for 1 h" in body
    assert "WhatsApp could not reach your phone." in body
    assert "for 8 h" in body  # the first connection, until the phone went offline
    assert "so far" in body
    assert "code 1" not in body
    # 540 of the 600 observed minutes connected.
    assert "90.0 %" in body


def entries_of(body: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", what)).strip()
        for what in re.findall(r'<p class="timeline-what">(.*?)</p>', body, re.S)
    ]


def test_it_tells_one_entry_per_thing_that_happened_as_the_worker_records_it(owner, tenant):
    worker, session = tenant.worker, tenant.session
    services.worker_set_status(worker=worker, status="STARTING", reason="worker process started", pid=7)
    services.session_set_state(session=session, state="STARTING", reason="opening WhatsApp Web")
    services.session_set_state(session=session, state="CONNECTED", reason="chat list shown")
    services.worker_set_status(worker=worker, status="RUNNING", reason="session connected")
    reason = "stopped on request (SIGTERM/SIGINT)"
    services.worker_set_status(worker=worker, status="STOPPING", reason=reason)
    services.session_set_state(session=session, state="STOPPED", reason=reason)
    services.worker_set_status(worker=worker, status="STOPPED", reason=reason)
    body = owner.get(URL).content.decode()
    whats = entries_of(body)
    assert [what.split(" ·")[0] for what in whats] == ["Not running", "Connected", "Starting"]
    assert "Connection process" not in body


def strip_of(body: str, period: str) -> list[tuple[str, float]]:
    strip = re.search(rf'<div class="strip" data-strip="{period}".*?</div>\s*</div>', body, re.S).group(0)
    return [
        (tone, float(width))
        for tone, width in re.findall(r'class="strip-segment tone-(\w+)" style="width: ([\d.]+)%', strip)
    ]


def test_it_draws_uptime_as_a_strip_of_the_period(owner, tenant):
    Kind = WorkerEvent.Kind
    WorkerEvent.objects.filter(tenant=tenant).delete()
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=60 * 24 * 9, reason="chat list shown")
    record(tenant, Kind.SESSION_STATE, "DISCONNECTED", minutes_ago=60 * 6, reason="network")
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=60 * 3, reason="chat list shown")
    body = owner.get(URL).content.decode()
    day = strip_of(body, "day")
    assert [tone for tone, _ in day] == ["ok", "warn", "ok"]
    assert [round(width) for _, width in day] == [75, 12, 12]
    assert "87.4 %" in body  # 3 h and a few microseconds offline: rounded down
    assert "Connected, last 24 hours" in body and "Connected, last 7 days" in body
    assert [tone for tone, _ in strip_of(body, "week")] == ["ok", "warn", "ok"]


def test_it_says_since_when_until_a_full_period_has_passed(owner, tenant):
    Kind = WorkerEvent.Kind
    WorkerEvent.objects.filter(tenant=tenant).delete()
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=120, reason="chat list shown")
    since = timezone.localtime(WorkerEvent.objects.get(tenant=tenant).created_at)
    body = owner.get(URL).content.decode()
    assert f"Connected since {since:%a} {since.day} {since:%b}, {since:%H:%M}" in body
    assert "last 24 hours" not in body and "last 7 days" not in body
    assert body.count('class="strip"') == 1  # the two periods are the same one so far
    assert strip_of(body, "day") == [("ok", 100.0)]


def test_it_never_shows_100_percent_for_less(owner, tenant):
    Kind = WorkerEvent.Kind
    WorkerEvent.objects.filter(tenant=tenant).delete()
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=60 * 24 * 9, reason="chat list shown")
    record(tenant, Kind.SESSION_STATE, "DISCONNECTED", minutes_ago=30, reason="network")
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=29.5, reason="chat list shown")
    body = owner.get(URL).content.decode()
    assert re.search(r'data-uptime="day">99\.9 %<', body)
    assert "100" not in re.search(r'data-uptime="week">([^<]*)<', body).group(1)


def test_it_words_a_connection_and_memory_reloads_as_the_worker_records_them(owner, tenant):
    WorkerEvent.objects.filter(tenant=tenant).delete()
    worker, session = tenant.worker, tenant.session
    services.session_set_state(session=session, state="CONNECTED", reason="WhatsApp ready")
    services.worker_record_memory_recovery(
        worker=worker, action="page_reload", reason="page heap 602 MB over the 512 MB limit"
    )
    services.worker_record_memory_recovery(
        worker=worker,
        action="browser_restart",
        reason="browser memory 1100 MB over the 1024 MB limit after a page reload",
    )
    body = html.unescape(owner.get(URL).content.decode())
    assert [what.split(" ·")[0] for what in entries_of(body)] == [
        "Browser restarted to free memory (still linked)",
        "WhatsApp reloaded to free memory (still linked)",
        "Connected",
    ]
    assert "WhatsApp's page was using too much memory." in body
    assert "Our browser for WhatsApp was using too much memory." in body
    assert "Your phone is linked and WhatsApp is open." in body
    assert "Something went wrong." not in body
    assert "602 MB" not in body  # the raw reason stays with staff
