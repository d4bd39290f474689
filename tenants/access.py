"""The one way views and APIs reach a tenant: from who is asking, never from a bare id."""

from django.core.exceptions import PermissionDenied

from tenants.models import Tenant, User


def tenant_for_user(user: User) -> Tenant:
    """The tenant a signed-in tenant user (or a tenant's API key) belongs to; anyone else is
    refused."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in as a tenant user.")
    if user.role != User.Role.TENANT or user.tenant_id is None:
        raise PermissionDenied("This account does not belong to a tenant.")
    return Tenant.objects.select_related("worker", "session").get(pk=user.tenant_id)
