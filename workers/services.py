"""Writes of the worker's domain: incoming messages, reply rules, the outbound queue."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.logging import mask_message_id, mask_number
from tenants.backoff import backoff_delay
from tenants.counters import counter_increment
from tenants.media import FILE_FIELDS, StoredMedia, media_cap, media_store, upload_too_large
from tenants.models import Ack, MessageLog, Tenant
from tenants.remote_files import FetchRefused, fetch
from tenants.services import message_log_record
from tenants.webhooks import events as webhook_events
from tenants.webhooks.outbox import webhook_emit
from workers.models import MAX_MESSAGE_LENGTH, OutboundMessage, ReplyRule, RuleTimeout
from workers.whatsapp.events import chat_id_for

logger = logging.getLogger(__name__)

_NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")


class IdempotencyConflict(ValidationError):
    """The idempotency key was used before for a different message."""


class TenantSuspended(ValidationError):
    """The tenant is suspended: nothing new is sent for it."""


SUSPENDED_MESSAGE = "This account is suspended: sending is switched off. Contact us to switch it back on."


def tenant_is_suspended(tenant: Tenant) -> bool:
    """Read from the database: a worker's tenant object is as old as the worker."""
    return Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.SUSPENDED).exists()


def normalize_number(raw: str) -> str:
    """International digits (``15551234567``) from what a person types (``+1 555-123-4567``)."""
    number = _NUMBER_PUNCTUATION.sub("", raw or "").removeprefix("+")
    if not number.isdigit() or not 7 <= len(number) <= 15:
        raise ValidationError("A phone number is 7 to 15 digits in international format, like +15551234567.")
    return number


_WA_ID = re.compile(r"^(?P<user>[0-9]{5,24}(?:-[0-9]{5,24})?)@(?P<server>c\.us|lid|g\.us)$")


def normalize_recipient(raw: str) -> str:
    """Whom a message goes to: phone digits, or a WhatsApp id kept as given (``…@lid``, ``…@g.us``).

    ``15551234567@c.us`` is a phone number and is stored as its digits, so replies, the send
    API and the portal name one person one way whichever form they were given.
    """
    value = (raw or "").strip()
    match = _WA_ID.match(value)
    if match is None:
        return normalize_number(value)
    if match["server"] == "c.us":
        return normalize_number(match["user"])
    return value


def validate_caption(text: str) -> str:
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValidationError(f"The caption is {len(text)} characters; the limit is {MAX_MESSAGE_LENGTH}.")
    return text


# What a file is sent as, by its content's type (a voice note only when asked for).
def media_kind_for(mime_type: str, *, voice_note: bool = False) -> str:
    major = mime_type.split("/")[0]
    if major == "audio":
        return "ptt" if voice_note else "audio"
    if major in ("image", "video") and mime_type != "image/svg+xml":
        return major
    return "document"


@dataclass(frozen=True)
class OutboundMedia:
    """A file kept for sending (outbound_media_store), ready for outbound_enqueue."""

    stored: StoredMedia
    kind: str

    def fields(self) -> dict[str, Any]:
        return {"media_kind": self.kind, **self.stored.file_fields()}


def outbound_media_store(
    *, tenant: Tenant, data: bytes, file_name: str, voice_note: bool = False
) -> OutboundMedia:
    """Keep a file a tenant sends (an upload): refused whole if over the tenant's cap."""
    cap = media_cap(tenant)
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > cap:
        raise ValidationError(upload_too_large(len(data), cap))
    stored = media_store(tenant=tenant, data=data, claimed_type="", file_name=file_name)
    return OutboundMedia(stored, media_kind_for(stored.mime_type, voice_note=voice_note))


def outbound_media_upload(*, tenant: Tenant, upload: Any, voice_note: bool = False) -> OutboundMedia:
    """Keep an uploaded file (Django's UploadedFile): one over the cap is refused by its size,
    before it is read into memory."""
    cap = media_cap(tenant)
    if upload.size is not None and upload.size > cap:
        raise ValidationError(upload_too_large(upload.size, cap))
    return outbound_media_store(
        tenant=tenant, data=upload.read(), file_name=upload.name or "", voice_note=voice_note
    )


def outbound_media_fetch(*, tenant: Tenant, url: str, voice_note: bool = False) -> OutboundMedia:
    """Fetch a file a tenant names by URL (under the webhooks' address rules), then keep it
    as an upload is kept; refused with the reason, and nothing kept, if it cannot be had."""
    try:
        fetched = fetch(url, max_bytes=media_cap(tenant), timeout=settings.MEDIA_FETCH_TIMEOUT_SECONDS)
    except FetchRefused as exc:
        # The URL itself is not logged: its query may hold a signed link's token.
        logger.info("media fetch refused", extra={"tenant_id": str(tenant.id), "error": str(exc)[:300]})
        raise ValidationError(str(exc), code="file_url") from None
    return outbound_media_store(
        tenant=tenant, data=fetched.data, file_name=fetched.file_name, voice_note=voice_note
    )


def validate_text(text: str) -> str:
    if not text or not text.strip():
        raise ValidationError("The message is empty.")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValidationError(f"The message is {len(text)} characters; the limit is {MAX_MESSAGE_LENGTH}.")
    return text


# --- Incoming ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundResult:
    log: MessageLog
    created: bool
    reply: OutboundMessage | None


# "@15551234567 what are your hours?": the mention is how a group addresses the bot, not part
# of the question a rule matches.
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\d{5,20}\b)+\s*")


def reply_rule_match(
    *, tenant: Tenant, text: str, in_group: bool = False, mentioned: bool = False
) -> ReplyRule | None:
    """The first enabled rule the text matches; a rule too slow on this text is skipped.

    In a group only rules that answer in groups apply, and of those a rule that waits to be
    mentioned only when the message mentions this number.
    """
    rules = ReplyRule.objects.filter(tenant=tenant, enabled=True).order_by("priority", "created_at")
    if in_group:
        rules = rules.filter(in_groups=True)
        if not mentioned:
            rules = rules.filter(only_when_mentioned=False)
        text = _LEADING_MENTIONS.sub("", text)
    for rule in rules:
        try:
            if rule.matches(text):
                return rule
        except RuleTimeout:
            logger.warning(
                "reply rule too slow, skipped",
                extra={"tenant_id": str(tenant.id), "rule_id": str(rule.id), "text_length": len(text)},
            )
            counter_increment(
                metric="whatsapp_reply_rule_timeouts_total", labels={"tenant_id": str(tenant.id)}
            )
    return None


@dataclass(frozen=True)
class Incoming:
    """An incoming message as the worker saw it (ids as WhatsApp gave them)."""

    wa_message_id: str
    chat_id: str
    sender_id: str
    # The sender's phone number: from a person's id, or resolved from a LID; "" if unknown.
    from_number: str
    text: str
    is_group: bool = False
    message_type: str = "chat"
    quoted_wa_message_id: str = ""
    wa_timestamp: datetime | None = None
    received_at: datetime | None = None
    group_name: str = ""
    mentions_me: bool = False
    media: StoredMedia | None = None

    @property
    def reply_to(self) -> str:
        """Where a reply goes: to the group in a group; else the phone number if known, else
        the chat as given (a LID)."""
        if self.is_group:
            return self.chat_id
        return self.from_number or self.chat_id


@transaction.atomic
def inbound_message_handle(*, tenant: Tenant, message: Incoming) -> InboundResult:
    """Log an incoming message once and queue the matching rule's reply, together.

    Both happen in one transaction, so a crash can't leave a logged message whose reply was
    never queued; a message logged before (a restart, a replay) is not handled again. In a
    group only rules that say so answer (reply_rule_match): a bot added to a group must not
    answer everyone.
    """
    wa_message_id, text = message.wa_message_id, message.text
    log, created = message_log_record(
        tenant=tenant,
        direction=MessageLog.Direction.IN,
        from_number=message.from_number,
        to_number="",
        text=text,
        wa_message_id=wa_message_id,
        at=message.received_at,
        chat_id=message.chat_id,
        sender_id=message.sender_id,
        is_group=message.is_group,
        message_type=message.message_type,
        quoted_wa_message_id=message.quoted_wa_message_id,
        wa_timestamp=message.wa_timestamp,
        group_name=message.group_name[:200],
        mentions_me=message.mentions_me,
        **(message.media.log_fields() if message.media else {}),
    )
    if not created:
        return InboundResult(log=log, created=False, reply=None)
    if tenant_is_suspended(tenant):  # logged, but a suspended tenant's bot says nothing
        return InboundResult(log=log, created=True, reply=None)
    rule = reply_rule_match(
        tenant=tenant, text=text, in_group=message.is_group, mentioned=message.mentions_me
    )
    if rule is None:
        return InboundResult(log=log, created=True, reply=None)
    reply, _ = outbound_enqueue(
        tenant=tenant,
        to_number=message.reply_to,
        text=rule.reply_text,
        source=OutboundMessage.Source.RULE,
        idempotency_key=f"reply:{wa_message_id}",
        in_reply_to=log,
    )
    logger.info(
        "reply rule matched",
        extra={
            "tenant_id": str(tenant.id),
            "rule_id": str(rule.id),
            "wa_message_id": mask_message_id(wa_message_id),
        },
    )
    return InboundResult(log=log, created=True, reply=reply)


# --- Reply rules: a tenant's own, scoped by the caller -----------------------------------------

# Callers fetch a rule filtered by the signed-in user's tenant, and a new rule takes its
# tenant from the same place, never from a form.
RULE_FIELDS = (
    "name",
    "match_type",
    "pattern",
    "reply_text",
    "priority",
    "enabled",
    "in_groups",
    "only_when_mentioned",
)


def reply_rule_create(
    *,
    tenant: Tenant,
    pattern: str,
    reply_text: str,
    name: str = "",
    match_type: str = ReplyRule.MatchType.KEYWORD,
    priority: int = 100,
    enabled: bool = True,
    in_groups: bool = False,
    only_when_mentioned: bool = False,
) -> ReplyRule:
    rule = ReplyRule(
        tenant=tenant,
        name=name,
        match_type=match_type,
        pattern=pattern,
        reply_text=reply_text,
        priority=priority,
        enabled=enabled,
        in_groups=in_groups,
        only_when_mentioned=only_when_mentioned,
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


# --- Outgoing ------------------------------------------------------------------------------


def _announce(event_type: str, *, tenant_id: object, rows: list[dict[str, Any]], **extra: object) -> None:
    """Webhook events about outbound messages (``rows``: their id, to_number, wa_message_id,
    idempotency_key), in the caller's transaction, ordered with their chat's messages."""
    for row in rows:
        data = webhook_events.outbound(
            outbound_id=row["id"],
            to=row["to_number"],
            message_id=row["wa_message_id"],
            idempotency_key=row["idempotency_key"],
        )
        data.update({key: value(row) if callable(value) else value for key, value in extra.items()})
        webhook_emit(
            tenant_id=tenant_id,  # type: ignore[arg-type]
            event_type=event_type,
            data=data,
            order_key=f"chat:{data['chat_id']}",
        )


_ROW_FIELDS = ("id", "to_number", "wa_message_id", "idempotency_key", "attempts", "last_error")


def outbound_enqueue(
    *,
    tenant: Tenant,
    to_number: str,
    text: str,
    source: str = OutboundMessage.Source.API,
    idempotency_key: str | None = None,
    in_reply_to: MessageLog | None = None,
    media: OutboundMedia | None = None,
) -> tuple[OutboundMessage, bool]:
    """Queue a message; the same idempotency key returns the message queued before.

    With ``media`` (outbound_media_store) the text is the file's caption and may be empty.
    A file not queued (a bad number, a replayed key) is removed again: nothing half-written.
    """
    try:
        if tenant_is_suspended(tenant):
            raise TenantSuspended(SUSPENDED_MESSAGE, code="suspended")
        message = OutboundMessage(
            tenant=tenant,
            to_number=normalize_recipient(to_number),
            text=validate_caption(text) if media else validate_text(text),
            source=source,
            idempotency_key=idempotency_key or None,
            in_reply_to=in_reply_to,
            **(media.fields() if media else {}),
        )
        message.full_clean(validate_constraints=False)
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        if media:
            media.stored.discard()
        if message.idempotency_key is None:
            raise
        earlier = OutboundMessage.objects.get(tenant=tenant, idempotency_key=message.idempotency_key)
        if (earlier.to_number, earlier.text, earlier.media_size) != (
            message.to_number,
            message.text,
            message.media_size,
        ):
            raise IdempotencyConflict(
                "This Idempotency-Key was already used for a different message."
            ) from None
        return earlier, False
    except BaseException:
        if media:
            media.stored.discard()
        raise
    logger.info(
        "message queued",
        extra={
            "tenant_id": str(tenant.id),
            "outbound_id": str(message.id),
            "to": mask_number(message.to_number),
            "source": source,
        },
    )
    return message, True


def outbound_claim_next(*, tenant: Tenant, now: datetime | None = None) -> OutboundMessage | None:
    """Take the oldest due message for sending; None when there is none.

    The claim is a conditional UPDATE from QUEUED, so two claimers can never both get it.
    """
    now = now or timezone.now()
    due = OutboundMessage.objects.filter(
        tenant=tenant, status=OutboundMessage.Status.QUEUED, next_attempt_at__lte=now
    ).order_by("created_at")
    for candidate in due.values_list("pk", flat=True)[:5]:
        claimed = OutboundMessage.objects.filter(pk=candidate, status=OutboundMessage.Status.QUEUED).update(
            status=OutboundMessage.Status.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
        if claimed:
            return OutboundMessage.objects.get(pk=candidate)
    return None


@transaction.atomic
def outbound_mark_sent(
    *, message: OutboundMessage, wa_message_id: str, at: datetime | None = None, ack: int = Ack.PENDING
) -> MessageLog:
    """Record a message WhatsApp took, and log it OUT, in one transaction.

    ``at``: when it was handed over; ``ack``: WhatsApp's first acknowledgement. Later acks
    come through ``outbound_record_ack``.
    """
    now = at or timezone.now()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.SENT,
        wa_message_id=wa_message_id,
        sent_at=now,
        last_error="",
        ack=ack,
        ack_at=now,
        updated_at=now,
    )
    message.status, message.wa_message_id, message.sent_at = OutboundMessage.Status.SENT, wa_message_id, now
    message.ack, message.ack_at = ack, now
    media = _media_handed_to_log(message)
    log, _ = message_log_record(
        tenant=message.tenant,
        direction=MessageLog.Direction.OUT,
        from_number="",
        to_number=message.to_number,
        text=message.text,
        wa_message_id=wa_message_id,
        at=now,
        chat_id=chat_id_for(message.to_number),
        is_group=message.to_number.endswith("@g.us"),
        ack=ack,
        ack_at=now,
        message_type=message.media_kind or "chat",
        **media,
    )
    _announce(
        webhook_events.MESSAGE_SENT,
        tenant_id=message.tenant_id,
        rows=[_row_of(message)],
        source=message.source,
        sent_at=now.isoformat(),
    )
    return log


def _media_handed_to_log(message: OutboundMessage) -> dict[str, Any]:
    """A sent message's file now belongs to its log row (one owner, one purge)."""
    if not message.media_file:
        return {}
    fields = {name: getattr(message, name) for name in FILE_FIELDS}
    # The stored names, not the outbound row's own FieldFile objects.
    fields["media_file"], fields["media_thumbnail"] = message.media_file.name, message.media_thumbnail.name
    OutboundMessage.objects.filter(pk=message.pk).update(media_file="", media_thumbnail="")
    return fields


def _row_of(message: OutboundMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in _ROW_FIELDS}


@transaction.atomic
def outbound_record_ack(*, tenant: Tenant, wa_message_ids: list[str], ack: int, at: datetime) -> int:
    """WhatsApp acknowledged sent messages: store the latest ack and its time on each.

    Acks only move forward (a late "sent" never undoes "read"); an error ack fails the
    message with that reason, not retried (WhatsApp may still have it). A message flagged
    not confirmed becomes SENT when its ack comes after all. Returns the messages changed.
    """
    ids = [i for i in wa_message_ids if i]
    outbound = OutboundMessage.objects.filter(tenant=tenant, wa_message_id__in=ids)
    logs = MessageLog.objects.filter(tenant=tenant, direction=MessageLog.Direction.OUT, wa_message_id__in=ids)
    if ack == Ack.ERROR:
        error = "WhatsApp reported an error sending this message"
        rows = list(outbound.exclude(ack=Ack.ERROR).values(*_ROW_FIELDS))
        changed = OutboundMessage.objects.filter(pk__in=[row["id"] for row in rows]).update(
            ack=ack,
            ack_at=at,
            status=OutboundMessage.Status.FAILED,
            last_error=error,
            updated_at=timezone.now(),
        )
        logs.update(ack=ack, ack_at=at)
        if changed:
            counter_increment(
                metric="whatsapp_outbound_failed_total", labels={"tenant_id": str(tenant.id)}, by=changed
            )
        _announce(
            webhook_events.MESSAGE_ACK,
            tenant_id=tenant.id,
            rows=rows,
            ack="failed",
            at=at.isoformat(),
            error=error,
        )
        return changed
    forward = Q(ack__isnull=True) | Q(ack__lt=ack)
    if ack >= Ack.SERVER:
        outbound.filter(forward, status=OutboundMessage.Status.UNCONFIRMED).update(
            status=OutboundMessage.Status.SENT, last_error=""
        )
    rows = list(outbound.filter(forward).exclude(ack=Ack.ERROR).values(*_ROW_FIELDS))
    changed = OutboundMessage.objects.filter(pk__in=[row["id"] for row in rows]).update(
        ack=ack, ack_at=at, updated_at=timezone.now()
    )
    logs.filter(forward).exclude(ack=Ack.ERROR).update(ack=ack, ack_at=at)
    _announce(
        webhook_events.MESSAGE_ACK,
        tenant_id=tenant.id,
        rows=rows,
        ack=webhook_events.ack_words(ack),
        at=at.isoformat(),
        error="",
    )
    return changed


def outbound_flag_unconfirmed(*, tenant: Tenant, timeout_seconds: float, now: datetime | None = None) -> int:
    """Messages WhatsApp took but never acknowledged within the timeout: "not confirmed".

    Never silently called sent (they may never arrive), never sent again (they may).
    """
    now = now or timezone.now()
    error = f"WhatsApp did not confirm it within {timeout_seconds:.0f} s; it may not have arrived"
    rows = list(
        OutboundMessage.objects.filter(
            Q(ack__isnull=True) | Q(ack__lt=Ack.SERVER),
            tenant=tenant,
            status=OutboundMessage.Status.SENT,
            sent_at__lte=now - timedelta(seconds=timeout_seconds),
        ).values(*_ROW_FIELDS)
    )
    if not rows:
        return 0
    with transaction.atomic():
        flagged = OutboundMessage.objects.filter(
            pk__in=[row["id"] for row in rows], status=OutboundMessage.Status.SENT
        ).update(status=OutboundMessage.Status.UNCONFIRMED, last_error=error, updated_at=now)
        _announce(
            webhook_events.MESSAGE_ACK,
            tenant_id=tenant.id,
            rows=rows,
            ack=webhook_events.NOT_CONFIRMED,
            at=now.isoformat(),
            error=error,
        )
    if flagged:
        counter_increment(
            metric="whatsapp_outbound_unconfirmed_total", labels={"tenant_id": str(tenant.id)}, by=flagged
        )
        logger.warning("sends not confirmed", extra={"tenant_id": str(tenant.id), "count": flagged})
    return flagged


# A failed send is tried again after 5 s, then 10 s, ... at most every 5 min.
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 300.0


def retry_delay(attempts: int) -> timedelta:
    """The outbound queue's wait before sending again after ``attempts`` failed attempts."""
    return backoff_delay(attempts, base_seconds=RETRY_BASE_SECONDS, cap_seconds=RETRY_CAP_SECONDS)


def outbound_mark_failed(
    *, message: OutboundMessage, reason: str, permanent: bool, max_attempts: int
) -> OutboundMessage:
    """A failed attempt: retried later with backoff, or FAILED for good with the reason."""
    now = timezone.now()
    give_up = permanent or message.attempts >= max_attempts
    status = OutboundMessage.Status.FAILED if give_up else OutboundMessage.Status.QUEUED
    next_attempt_at = now if give_up else now + retry_delay(message.attempts)
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=status, last_error=reason, next_attempt_at=next_attempt_at, updated_at=now
        )
        message.status, message.last_error, message.next_attempt_at = status, reason, next_attempt_at
        if give_up:
            _announce(
                webhook_events.MESSAGE_FAILED,
                tenant_id=message.tenant_id,
                rows=[_row_of(message)],
                error=reason,
                attempts=message.attempts,
            )
    if give_up:
        counter_increment(
            metric="whatsapp_outbound_failed_total", labels={"tenant_id": str(message.tenant_id)}
        )
    log = logger.warning if give_up else logger.info
    log(
        "message failed" if give_up else "message send will be retried",
        extra={
            "tenant_id": str(message.tenant_id),
            "outbound_id": str(message.id),
            "attempts": message.attempts,
            "reason": reason,
        },
    )
    return message


def _give_back(claimed: QuerySet[OutboundMessage]) -> int:
    """Return claimed (SENDING) messages to the queue, as if never claimed."""
    return claimed.filter(status=OutboundMessage.Status.SENDING).update(
        status=OutboundMessage.Status.QUEUED, attempts=F("attempts") - 1, updated_at=timezone.now()
    )


def outbound_requeue(*, message: OutboundMessage) -> None:
    """Give back a claimed message that was never tried (the worker is stopping)."""
    _give_back(OutboundMessage.objects.filter(pk=message.pk))


def outbound_requeue_unsent(*, tenant: Tenant) -> int:
    """Give back messages claimed but never handed to the browser (the claim's reply was lost).

    Only for the tenant's running worker, which holds the session lock and has settled every
    send it did hand over: anything still SENDING was not tried.
    """
    count = _give_back(OutboundMessage.objects.filter(tenant=tenant))
    if count:
        logger.info("unsent claims requeued", extra={"tenant_id": str(tenant.id), "count": count})
    return count


def outbound_fail_interrupted(*, tenant: Tenant) -> int:
    """Messages left SENDING by a worker that died mid-send.

    Whether WhatsApp took such a message is unknown; sending it again could deliver it twice,
    so it is marked FAILED with the reason, for a person (or the API client) to decide.
    """
    error = "The worker stopped while sending; not retried so it cannot arrive twice."
    rows = list(
        OutboundMessage.objects.filter(tenant=tenant, status=OutboundMessage.Status.SENDING).values(
            *_ROW_FIELDS
        )
    )
    with transaction.atomic():
        count = OutboundMessage.objects.filter(
            pk__in=[row["id"] for row in rows], status=OutboundMessage.Status.SENDING
        ).update(status=OutboundMessage.Status.FAILED, last_error=error, updated_at=timezone.now())
        _announce(
            webhook_events.MESSAGE_FAILED,
            tenant_id=tenant.id,
            rows=rows,
            error=error,
            attempts=lambda row: row["attempts"],
        )
    if count:
        counter_increment(
            metric="whatsapp_outbound_failed_total", labels={"tenant_id": str(tenant.id)}, by=count
        )
        logger.warning("interrupted sends marked failed", extra={"tenant_id": str(tenant.id), "count": count})
    return count


def outbound_sent_since(*, tenant: Tenant, since: datetime) -> int:
    return OutboundMessage.objects.filter(
        tenant=tenant, status=OutboundMessage.Status.SENT, sent_at__gte=since
    ).count()


def outbound_due_count(*, tenant: Tenant) -> int:
    return OutboundMessage.objects.filter(
        tenant=tenant,
        status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.SENDING],
        next_attempt_at__lte=timezone.now(),
    ).count()
