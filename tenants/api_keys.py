"""Per-tenant API keys: ``wak_<prefix>_<secret>``, shown once, stored as a SHA-256 hash.

The secret has 256 bits of randomness, so a fast hash is enough (nothing to brute-force);
the prefix finds the row, and the hash is compared in constant time.
"""

import hashlib
import hmac
import logging
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone

from tenants.models import Tenant, TenantApiKey, User

logger = logging.getLogger(__name__)

KEY_START = "wak_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(
    *, tenant: Tenant, name: str, scope: str, created_by: User | None
) -> tuple[TenantApiKey, str]:
    """A new key; the returned plain key is the only time anyone sees it."""
    prefix = secrets.token_hex(6)
    plain = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    key = TenantApiKey(
        tenant=tenant,
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash(plain),
        scope=scope,
        created_by=created_by,
    )
    key.full_clean()
    key.save()
    logger.info("api key created", extra={"tenant_id": str(tenant.id), "key_prefix": prefix, "scope": scope})
    return key, plain


def api_key_revoke(*, key: TenantApiKey) -> None:
    if key.revoked_at is not None:
        raise ValidationError("This key was already revoked.")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    logger.info("api key revoked", extra={"tenant_id": str(key.tenant_id), "key_prefix": key.prefix})


def api_key_find(plain: str) -> TenantApiKey | None:
    """The active key this plain key is, or None (unknown, malformed or revoked)."""
    if not plain.startswith(KEY_START) or plain.count("_") < 2:
        return None
    prefix = plain[len(KEY_START) :].split("_", 1)[0]
    key = TenantApiKey.objects.select_related("tenant").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(plain)):
        return None
    TenantApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key
