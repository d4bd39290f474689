import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from tenants.access import tenant_for_user


def test_it_gives_a_tenant_user_their_own_tenant(tenant_user, tenant, other_tenant):
    assert tenant_for_user(tenant_user) == tenant


def test_it_refuses_staff(staff_user):
    with pytest.raises(PermissionDenied, match="does not belong to a tenant"):
        tenant_for_user(staff_user)


def test_it_refuses_anonymous_visitors(db):
    with pytest.raises(PermissionDenied, match="Sign in"):
        tenant_for_user(AnonymousUser())


def test_it_refuses_a_deactivated_user(tenant_user):
    tenant_user.is_active = False
    with pytest.raises(PermissionDenied):
        tenant_for_user(tenant_user)
