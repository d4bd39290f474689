from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tenants.models import WorkerEvent

URL = reverse("portal:history")


def record(tenant, kind, new, *, minutes_ago, reason="", old=""):
    WorkerEvent.objects.create(
        tenant=tenant,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_it_says_no_data_yet_before_anything_happened(owner, tenant):
    body = owner.get(URL).content.decode()
    assert body.count("no data yet") == 2


def test_it_tells_the_session_story_in_plain_words_with_durations_and_uptime(owner, tenant):
    Kind = WorkerEvent.Kind
    WorkerEvent.objects.filter(tenant=tenant).delete()
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=600, reason="chat list shown")
    record(
        tenant,
        Kind.SESSION_STATE,
        "PHONE_UNREACHABLE",
        minutes_ago=120,
        reason="WhatsApp is trying to reach the phone",
    )
    record(tenant, Kind.SESSION_STATE, "CONNECTED", minutes_ago=60, reason="phone reachable again")
    record(tenant, Kind.QR_ISSUED, "1", minutes_ago=30)  # not part of the story
    body = owner.get(URL).content.decode()
    assert "Phone offline" in body and "for 1 h" in body
    assert "WhatsApp could not reach your phone." in body
    assert "for 8 h" in body  # the first connection, until the phone went offline
    assert "so far" in body
    assert "code 1" not in body
    # 540 of the 600 observed minutes connected.
    assert "90 %" in body
