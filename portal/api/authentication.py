"""Who is calling the portal API: a tenant's API key (``Authorization: Bearer wak_...``), the
internal key plus ``x-user-email`` (a front end that proxies for the user), or a signed-in
tenant user's session; and what each may do."""

import hmac
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from config.addresses import client_address
from tenants.api_keys import api_key_find
from tenants.counters import counter_increment
from tenants.models import TenantApiKey, User

logger = logging.getLogger(__name__)

UNAUTHORIZED_METRIC = "whatsapp_portal_api_unauthorized_total"


class PortalKeyAuthentication(BaseAuthentication):
    """``x-portal-key`` (compared in constant time) plus ``x-user-email``."""

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        key = request.headers.get("x-portal-key")
        email = request.headers.get("x-user-email")
        if key is None and email is None:
            return None  # not this scheme: the session may still authenticate
        expected = settings.PORTAL_INTERNAL_KEY.encode()
        if not key or not expected or not hmac.compare_digest(key.encode(), expected):
            self._refuse(request)
        user = (
            User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
            if email
            else None
        )
        if user is None:
            raise exceptions.PermissionDenied("x-user-email: no active user with this email")
        return user, "portal-key"

    def authenticate_header(self, request: Request) -> str:
        return 'PortalKey realm="api"'

    @staticmethod
    def _refuse(request: Request) -> None:
        counter_increment(metric=UNAUTHORIZED_METRIC)
        logger.warning(
            "portal API key refused",
            extra={
                "path": request.path,
                "remote_addr": client_address(request),
                "key_sent": "x-portal-key" in request.headers,
            },
        )
        raise exceptions.AuthenticationFailed("x-portal-key is missing or wrong")


@dataclass(frozen=True)
class ApiKeyCaller:
    """Who calls with a tenant's own API key: that tenant, with the key's scope, no person."""

    key: TenantApiKey
    is_authenticated = True
    is_active = True
    role = User.Role.TENANT

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.key.tenant_id

    @property
    def email(self) -> str:
        return f"api-key:{self.key.prefix}"


def api_caller(request: Request) -> User | ApiKeyCaller:
    """Who a request the authenticators let through comes from: a user, or a tenant's key
    (DRF's types know only users); nobody else is let through."""
    caller: object = request.user
    if not isinstance(caller, User | ApiKeyCaller):
        raise exceptions.NotAuthenticated()
    return caller


class TenantApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer wak_…``: a tenant's own key, for tenants who call the API directly."""

    def authenticate(self, request: Request) -> tuple[ApiKeyCaller, TenantApiKey] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer wak_"):
            return None
        key = api_key_find(header.removeprefix("Bearer ").strip())
        if key is None:
            counter_increment(metric=UNAUTHORIZED_METRIC)
            logger.warning("portal API key refused", extra={"path": request.path, "scheme": "tenant-key"})
            raise exceptions.AuthenticationFailed("this API key is unknown or was revoked")
        return ApiKeyCaller(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TenantKeyScheme(OpenApiAuthenticationExtension):
    target_class = TenantApiKeyAuthentication
    name = "tenantApiKey"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "a tenant's own key, wak_…"}


class KeyScopeAllows(BasePermission):
    """A read-only key may read; only a SEND key may queue messages or change anything."""

    message = "This API key is read-only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth if isinstance(request.auth, TenantApiKey) else None
        return (
            key is None
            or request.method in ("GET", "HEAD", "OPTIONS")
            or key.scope == TenantApiKey.Scope.SEND
        )


class PortalKeyScheme(OpenApiAuthenticationExtension):
    """Describes the key pair in the OpenAPI schema: both headers go together."""

    target_class = PortalKeyAuthentication
    name = ["portalKey", "userEmail"]

    def get_security_definition(self, auto_schema: object) -> list[dict]:
        return [
            {"type": "apiKey", "in": "header", "name": "x-portal-key"},
            {"type": "apiKey", "in": "header", "name": "x-user-email"},
        ]


class IsTenantUser(BasePermission):
    message = "This account does not belong to a tenant."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == User.Role.TENANT and user.tenant_id)
