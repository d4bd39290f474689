import pytest
from django.db import IntegrityError, transaction

from tenants.models import MessageLog, User


def _log(tenant, wa_id, direction="IN"):
    return MessageLog.objects.create(
        tenant=tenant,
        direction=direction,
        from_number="15550001",
        to_number="15550002",
        message_text="hi",
        wa_message_id=wa_id,
    )


def test_it_rejects_the_same_whatsapp_message_twice_for_a_tenant(tenant):
    _log(tenant, "false_15550001@c.us_AAA")
    with pytest.raises(IntegrityError), transaction.atomic():
        _log(tenant, "false_15550001@c.us_AAA")
    assert MessageLog.objects.filter(tenant=tenant).count() == 1


def test_it_allows_the_same_id_in_the_other_direction_or_another_tenant(tenant, other_tenant):
    _log(tenant, "X1", "IN")
    _log(tenant, "X1", "OUT")
    _log(other_tenant, "X1", "IN")
    assert MessageLog.objects.filter(wa_message_id="X1").count() == 3


def test_it_allows_many_messages_without_a_whatsapp_id(tenant):
    _log(tenant, None)
    _log(tenant, None)
    assert MessageLog.objects.filter(tenant=tenant, wa_message_id=None).count() == 2


def test_it_refuses_a_tenant_user_without_a_tenant(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="lost@x.test", role=User.Role.TENANT, tenant=None)])


def test_it_refuses_a_staff_user_bound_to_a_tenant(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="mixed@x.test", role=User.Role.STAFF, tenant=tenant)])


def test_it_lets_only_staff_into_the_admin(tenant_user, staff_user):
    assert staff_user.is_staff
    assert not tenant_user.is_staff


def test_it_measures_heartbeat_age_from_last_seen(tenant):
    from datetime import timedelta

    from django.utils import timezone

    session = tenant.session
    assert session.heartbeat_age() is None
    now = timezone.now()
    session.last_seen_at = now - timedelta(seconds=42)
    assert session.heartbeat_age(now) == timedelta(seconds=42)


def test_an_age_is_never_negative_and_counts_whole_seconds():
    # A heartbeat stamped by a host whose clock runs ahead was just now, everywhere it shows.
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import seconds_since, time_since

    now = timezone.now()
    assert time_since(None, now) is None and seconds_since(None, now) is None
    assert time_since(now + timedelta(seconds=3), now) == timedelta(0)
    assert seconds_since(now - timedelta(seconds=42.9), now) == 42
