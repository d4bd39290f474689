"""What a tenant's worker acts on: its reply rules and its durable outbound queue."""

import uuid

import regex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.models import MessageLog, Tenant

MAX_MESSAGE_LENGTH = 4096  # WhatsApp's own limit for one text message
MAX_PATTERN_LENGTH = 200
# A tenant's regular expression may backtrack for minutes on a crafted message ("(a|aa)+$");
# a search that takes longer than this is abandoned and the rule treated as not matching.
RULE_MATCH_TIMEOUT_SECONDS = 0.1
# Python's own syntax, as the portal promises; regex's V0 mode is the one compatible with re.
_RULE_FLAGS = regex.IGNORECASE | regex.V0


class RuleTimeout(Exception):
    """A reply rule's pattern took longer than RULE_MATCH_TIMEOUT_SECONDS on a message."""


class ReplyRule(models.Model):
    """An auto-reply: when an incoming text matches, the reply is queued.

    Rules are tried by ascending ``priority`` (then oldest first); the first match wins.
    """

    class MatchType(models.TextChoices):
        # The keyword appears in the text as a whole word, ignoring case.
        KEYWORD = "KEYWORD", "Keyword"
        # A Python regular expression found anywhere in the text, ignoring case.
        REGEX = "REGEX", "Regular expression"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="reply_rules")
    name = models.CharField(max_length=100, blank=True)
    match_type = models.CharField(max_length=10, choices=MatchType.choices, default=MatchType.KEYWORD)
    pattern = models.CharField(max_length=MAX_PATTERN_LENGTH)
    reply_text = models.TextField(max_length=MAX_MESSAGE_LENGTH)
    priority = models.IntegerField(default=100, help_text="Lower numbers are tried first.")
    enabled = models.BooleanField(default=True)
    # Off by default: a bot added to a group must not answer everyone in it.
    in_groups = models.BooleanField(
        "answer in groups", default=False, help_text="Also answer messages in groups the number is in."
    )
    only_when_mentioned = models.BooleanField(
        default=False, help_text="In a group, answer only a message that mentions this number (@)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [models.Index(fields=["tenant", "enabled", "priority"])]

    def __str__(self) -> str:
        return self.name or f"{self.get_match_type_display()}: {self.pattern}"

    def clean(self) -> None:
        if not self.pattern.strip():
            raise ValidationError({"pattern": "A rule needs something to match."})
        if self.match_type == self.MatchType.REGEX:
            try:
                regex.compile(self.pattern, _RULE_FLAGS)
            except regex.error as exc:
                raise ValidationError({"pattern": f"Not a valid regular expression: {exc}"}) from None

    def compiled(self) -> regex.Pattern:
        if self.match_type == self.MatchType.REGEX:
            return regex.compile(self.pattern, _RULE_FLAGS)
        return regex.compile(rf"(?<!\w){regex.escape(self.pattern.strip())}(?!\w)", _RULE_FLAGS)

    def matches(self, text: str) -> bool:
        """Whether the text matches; raises RuleTimeout rather than search for too long."""
        try:
            return self.compiled().search(text, timeout=RULE_MATCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            raise RuleTimeout(f"rule {self.pk} took over {RULE_MATCH_TIMEOUT_SECONDS} s") from None


class OutboundMessage(models.Model):
    """A message to send. Durable: whatever is queued survives a worker restart."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        SENDING = "SENDING", "Sending"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"
        # Handed to WhatsApp, but no server ack came within OUTBOUND_ACK_TIMEOUT_SECONDS: it
        # may never arrive. Not retried (it could arrive twice); a late ack makes it SENT.
        UNCONFIRMED = "UNCONFIRMED", "Not confirmed"
        # Queued when its tenant was suspended: kept, never sent unless staff release it.
        HELD = "HELD", "Held (tenant suspended)"

    class Source(models.TextChoices):
        RULE = "RULE", "Reply rule"
        API = "API", "API"
        PORTAL = "PORTAL", "Portal"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="outbound_messages")
    # A phone number (digits), or a WhatsApp id as given: <id>@lid, <id>@g.us.
    to_number = models.CharField(max_length=120)
    text = models.TextField(max_length=MAX_MESSAGE_LENGTH, blank=True)  # may be empty with a file
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # NULL, not "", for "no key": the unique constraint applies only where one is set.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    in_reply_to = models.ForeignKey(
        MessageLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    wa_message_id = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # WhatsApp's latest acknowledgement (tenants.models.Ack) and when it came.
    ack = models.SmallIntegerField(null=True, blank=True)
    ack_at = models.DateTimeField(null=True, blank=True)
    # A photo, document, audio or voice note to send, the text above being its caption. Kept
    # as tenants.media keeps files; once sent, the file belongs to the sent message's log row
    # (these are cleared then), so each file has one owner and one purge.
    media_kind = models.CharField(max_length=10, blank=True)  # image, video, audio, ptt, document
    media_file = models.FileField(max_length=255, blank=True)
    media_thumbnail = models.FileField(max_length=255, blank=True)
    media_mime_type = models.CharField(max_length=100, blank=True)
    media_size = models.PositiveBigIntegerField(null=True, blank=True)
    media_file_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The worker's "next due message" query, oldest first.
            models.Index(fields=["tenant", "status", "next_attempt_at", "created_at"], name="outbound_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="outbound_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Message to {self.to_number} ({self.get_status_display()})"

    def get_media_kind_label(self) -> str:
        labels = {"image": "Photo", "video": "Video", "audio": "Audio", "ptt": "Voice note"}
        return labels.get(self.media_kind, "Document")


class StaleCheckClock(models.Model):
    """The stale check's own proof of reaching the database: one row, written every round.

    A gap between two rounds longer than STALE_CHECK_MAX_GAP_SECONDS means the check could not
    reach the database (or did not run) meanwhile, and nor, probably, could the workers write
    their heartbeats: ``reachable_since`` is then the round that found the gap, and a worker's
    silence is counted from there, not from before the outage.
    """

    reached_at = models.DateTimeField()
    reachable_since = models.DateTimeField()

    def __str__(self) -> str:
        return f"stale check reached the database at {self.reached_at:%Y-%m-%d %H:%M:%S}"
