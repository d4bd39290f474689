"""The one way views and APIs reach a tenant: from who is asking, never from a bare id."""

import uuid
from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from tenants.models import Tenant, User


class TenantCaller(Protocol):
    """Who asks for a tenant: a ``User``, or the portal API's ``ApiKeyCaller`` (a tenant's key)."""

    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def role(self) -> str: ...
    @property
    def tenant_id(self) -> uuid.UUID | None: ...


def signed_in_user(request: HttpRequest | Request) -> User:
    """The user a request is signed in as, where authentication has let only users through
    (the admin's pages, the staff API, the portal's pages); anyone else is refused."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in.")
    return user


def tenant_for_user(user: TenantCaller) -> Tenant:
    """The tenant a signed-in tenant user (or a tenant's API key) belongs to; anyone else is
    refused."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in as a tenant user.")
    if user.role != User.Role.TENANT or user.tenant_id is None:
        raise PermissionDenied("This account does not belong to a tenant.")
    return Tenant.objects.select_related("worker", "session").get(pk=user.tenant_id)
