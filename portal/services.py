"""The portal's own writes: a tenant's reply rules.

Rules arrive here already scoped: callers fetch a rule filtered by the signed-in user's
tenant, and a new rule takes its tenant from the same place, never from the form.
"""

import logging

from tenants.models import Tenant
from workers.models import ReplyRule

logger = logging.getLogger(__name__)

RULE_FIELDS = ("name", "match_type", "pattern", "reply_text", "priority", "enabled")


def reply_rule_create(
    *,
    tenant: Tenant,
    pattern: str,
    reply_text: str,
    name: str = "",
    match_type: str = ReplyRule.MatchType.KEYWORD,
    priority: int = 100,
    enabled: bool = True,
) -> ReplyRule:
    rule = ReplyRule(
        tenant=tenant,
        name=name,
        match_type=match_type,
        pattern=pattern,
        reply_text=reply_text,
        priority=priority,
        enabled=enabled,
    )
    rule.full_clean()
    rule.save(force_insert=True)
    logger.info("reply rule created", extra={"tenant_id": str(tenant.id), "rule_id": str(rule.id)})
    return rule


def reply_rule_update(*, rule: ReplyRule, **fields: object) -> ReplyRule:
    """Change some of ``RULE_FIELDS``; the rule is validated whole before it is saved."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"reply_rule_update() got fields it does not change: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save(update_fields=[*fields, "updated_at"])
    logger.info(
        "reply rule updated",
        extra={"tenant_id": str(rule.tenant_id), "rule_id": str(rule.id), "fields": sorted(fields)},
    )
    return rule


def reply_rule_set_enabled(*, rule: ReplyRule, enabled: bool) -> ReplyRule:
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    logger.info(
        "reply rule switched",
        extra={"tenant_id": str(rule.tenant_id), "rule_id": str(rule.id), "enabled": enabled},
    )
    return rule


def reply_rule_delete(*, rule: ReplyRule) -> None:
    rule_id, tenant_id = rule.id, rule.tenant_id
    rule.delete()
    logger.info("reply rule deleted", extra={"tenant_id": str(tenant_id), "rule_id": str(rule_id)})
