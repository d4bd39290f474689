from datetime import timedelta

from django.utils import timezone

from tenants import selectors, services
from tenants.models import SetupRequest


def _requested(tenant, user, *, minutes_ago, status=SetupRequest.Status.PENDING):
    created_at = timezone.now() - timedelta(minutes=minutes_ago)
    return SetupRequest.objects.create(tenant=tenant, user=user, status=status, created_at=created_at)


def test_it_lists_newest_first_up_to_the_callers_limit(tenant, tenant_user):
    oldest, middle, newest = (_requested(tenant, tenant_user, minutes_ago=m) for m in (30, 20, 10))
    assert selectors.setup_requests(tenant=tenant, limit=2) == [newest, middle]
    assert selectors.setup_requests(tenant=tenant, limit=10) == [newest, middle, oldest]


def test_a_tenant_sees_only_its_own_and_staff_can_filter_by_status(tenant, tenant_user, other_tenant):
    other_user = services.user_create_tenant_user(
        tenant=other_tenant, email="owner@florist.test", password="correct horse battery", name="Other"
    )
    approved = _requested(tenant, tenant_user, minutes_ago=5, status=SetupRequest.Status.APPROVED)
    pending = _requested(tenant, tenant_user, minutes_ago=2)
    elsewhere = _requested(other_tenant, other_user, minutes_ago=1)
    assert selectors.setup_requests(tenant=tenant, limit=10) == [pending, approved]
    assert selectors.setup_requests(limit=10) == [elsewhere, pending, approved]
    assert selectors.setup_requests(status=SetupRequest.Status.APPROVED, limit=10) == [approved]
