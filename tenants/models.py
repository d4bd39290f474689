"""The schema of the platform: tenants, their users, sessions, workers and messages.

Rows here are changed through ``tenants.services`` only; every status or state change there
writes a ``WorkerEvent`` in the same transaction, and that timeline is what uptime, alerts
and the portal's history are computed from.
"""

import uuid
from datetime import datetime, timedelta
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.formatting import format_size


class TimestampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Tenant(TimestampedModel):
    class Status(models.TextChoices):
        # Created, never connected yet.
        NEW = "NEW", "New"
        # Its session has connected; the normal state.
        ACTIVE = "ACTIVE", "Active"
        # Needs attention: stale worker, logged out, auth failure. Set by the services.
        ERROR = "ERROR", "Error"
        # Switched off by staff; its worker is not to be started.
        SUSPENDED = "SUSPENDED", "Suspended"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    # The largest media file kept for this tenant; empty: the MEDIA_MAX_BYTES setting.
    media_max_bytes = models.PositiveBigIntegerField(
        "largest media file (bytes)",
        null=True,
        blank=True,
        help_text="Empty: the platform's MEDIA_MAX_BYTES. A larger file is logged, not kept.",
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.update(role=User.Role.STAFF, is_superuser=True, tenant=None)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        STAFF = "STAFF", "Staff"
        TENANT = "TENANT", "Tenant user"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TENANT)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # Staff belong to no tenant; a tenant user belongs to exactly one.
            models.CheckConstraint(
                condition=(Q(role="STAFF", tenant__isnull=True) | Q(role="TENANT", tenant__isnull=False)),
                name="user_role_matches_tenant",
                violation_error_message="Staff users have no tenant; tenant users need one.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_staff(self) -> bool:
        # Only staff may enter the Django admin; derived so the two can never disagree.
        return self.role == self.Role.STAFF


class SetupRequest(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        APPROVED = "APPROVED", "Approved"
        REJECTED = "REJECTED", "Rejected"
        DONE = "DONE", "Done"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="setup_requests")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="setup_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"Setup request for {self.tenant} ({self.get_status_display()})"


class WhatsAppSession(TimestampedModel):
    class State(models.TextChoices):
        STOPPED = "STOPPED", "Stopped"  # no worker is driving it
        STARTING = "STARTING", "Starting"
        QR = "QR", "Waiting for QR scan"
        CONNECTED = "CONNECTED", "Connected"
        # Connected, but the page stopped answering: the worker is restarting the browser.
        DEGRADED = "DEGRADED", "Connected but not answering"
        PHONE_UNREACHABLE = "PHONE_UNREACHABLE", "Phone unreachable"
        DISCONNECTED = "DISCONNECTED", "Disconnected"
        CONFLICT = "CONFLICT", "Open in another window"
        LOGGED_OUT = "LOGGED_OUT", "Logged out"
        AUTH_FAILURE = "AUTH_FAILURE", "Authentication failed"
        # WhatsApp refuses the number (terms of service) or this server's network (proxy).
        BLOCKED = "BLOCKED", "Blocked by WhatsApp"
        UPDATE_NEEDED = "UPDATE_NEEDED", "WhatsApp Web version too old"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="session")
    state = models.CharField(max_length=20, choices=State.choices, default=State.STOPPED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # The QR value is a login credential: it lives here, behind access control, never in logs.
    last_qr = models.TextField(blank=True)
    last_qr_data_uri = models.TextField(blank=True)
    qr_issued_at = models.DateTimeField(null=True, blank=True)
    qr_refresh_count = models.PositiveIntegerField(default=0)
    # Linking by phone number instead of QR: the number a tenant asked a pairing code for,
    # and the code (a login credential, like the QR value: never in logs) with its expiry.
    link_phone = models.CharField(max_length=20, blank=True)
    link_code = models.CharField(max_length=16, blank=True)
    link_code_expires_at = models.DateTimeField(null=True, blank=True)
    link_code_error = models.CharField(max_length=300, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)  # the heartbeat
    # Proof of a live pipeline, not just a live process (field notes, "Connected while dead").
    chat_list_ok = models.BooleanField(default=False)
    last_page_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "WhatsApp session"
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"WhatsApp session of {self.tenant}"

    def heartbeat_age(self, now: datetime | None = None) -> timedelta | None:
        return time_since(self.last_seen_at, now or timezone.now())


# A code is asked for while the worker waits for a login (or is starting to): then WhatsApp
# offers it beside the QR code. Linked, stopped or blocked, there is nothing to enter it into.
LINKABLE_STATES = (WhatsAppSession.State.QR, WhatsAppSession.State.STARTING)


def time_since(moment: datetime | None, now: datetime) -> timedelta | None:
    """How long before ``now`` ``moment`` was (a heartbeat, a QR code); None if there was none.

    Never negative: a moment stamped by a host whose clock runs ahead was just now, and a
    negative age would read as "in the future" on every page and API that shows it.
    """
    if moment is None:
        return None
    return max(now - moment, timedelta(0))


def seconds_since(moment: datetime | None, now: datetime) -> int | None:
    """``time_since`` in whole seconds, rounded down: how the APIs and the logs give an age."""
    age = time_since(moment, now)
    return None if age is None else int(age.total_seconds())


class WorkerProcess(TimestampedModel):
    class Status(models.TextChoices):
        STARTING = "STARTING", "Starting"
        RUNNING = "RUNNING", "Running"
        STOPPING = "STOPPING", "Stopping"
        STOPPED = "STOPPED", "Stopped"
        ERROR = "ERROR", "Error"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="worker")
    # The supervisor program name (the seed's pm2_name).
    process_name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STOPPED)
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # The browser tree's cost, sampled with each heartbeat (PSS, and CPU since the last one).
    browser_memory_mb = models.FloatField(null=True, blank=True)
    browser_cpu_percent = models.FloatField(null=True, blank=True)
    # While STARTING: its place in the host's line to launch a browser (1 is next), when more
    # workers start at once than WORKER_START_CONCURRENCY; None otherwise.
    start_position = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "worker process"
        verbose_name_plural = "worker processes"
        ordering = ["process_name"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.process_name

    @staticmethod
    def process_name_for(tenant_id: uuid.UUID) -> str:
        return f"wa-worker-{tenant_id}"


class Ack(models.IntegerChoices):
    """WhatsApp's acknowledgement of a sent message, as wa-js reports it."""

    ERROR = -1, "Error"
    PENDING = 0, "Pending"
    SERVER = 1, "Sent"
    DEVICE = 2, "Delivered"
    READ = 3, "Read"
    PLAYED = 4, "Played"


class MessageLog(models.Model):
    class Direction(models.TextChoices):
        IN = "IN", "Incoming"
        OUT = "OUT", "Outgoing"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Phone numbers where known (a LID sender WhatsApp cannot resolve has none); blank for
    # our own number. The ids below are as WhatsApp gave them.
    from_number = models.CharField(max_length=32, blank=True)
    to_number = models.CharField(max_length=32, blank=True)
    message_text = models.TextField(blank=True)
    # NULL, not "", for "no id": the unique constraint below applies only where one is set.
    wa_message_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The chat as WhatsApp names it: <digits>@c.us, <id>@lid (a hidden number) or <id>@g.us.
    chat_id = models.CharField(max_length=120, blank=True)
    # Who wrote it, as given (in a group: the participant).
    sender_id = models.CharField(max_length=120, blank=True)
    is_group = models.BooleanField(default=False)
    message_type = models.CharField(max_length=20, default="chat")
    quoted_wa_message_id = models.CharField(max_length=200, blank=True)
    wa_timestamp = models.DateTimeField(null=True, blank=True)  # WhatsApp's own time
    # Outgoing: WhatsApp's latest acknowledgement (see Ack) and when it came.
    ack = models.SmallIntegerField(null=True, blank=True)
    ack_at = models.DateTimeField(null=True, blank=True)
    # A group's name as WhatsApp showed it when the message came, and whether it mentioned us.
    group_name = models.CharField(max_length=200, blank=True)
    mentions_me = models.BooleanField(default=False)
    # A photo, document, voice note, ... (tenants.media): the stored file under a name of our
    # own, the type read from its content, the sender's file name (a label, never a path), and
    # why no file is kept when there is none (too large, could not be downloaded). The text
    # above is then the caption.
    media_file = models.FileField(max_length=255, blank=True)
    media_thumbnail = models.FileField(max_length=255, blank=True)
    media_mime_type = models.CharField(max_length=100, blank=True)
    media_size = models.PositiveBigIntegerField(null=True, blank=True)
    media_file_name = models.CharField(max_length=255, blank=True)
    media_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The tenant's newest-first view and its keyset pagination on (created_at, id).
            models.Index(fields=["tenant", "-created_at", "-id"], name="messagelog_tenant_newest"),
            models.Index(fields=["-created_at"], name="messagelog_newest"),
        ]
        constraints = [
            # A message can never be logged twice (field notes, "Duplicates").
            models.UniqueConstraint(
                fields=["tenant", "wa_message_id", "direction"],
                condition=Q(wa_message_id__isnull=False),
                name="messagelog_unique_wa_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message {self.wa_message_id or self.id}"

    @property
    def has_media(self) -> bool:
        """A photo, document, voice note, ... whether or not its file is kept."""
        return bool(self.media_file or self.media_note or self.media_mime_type)

    @property
    def media_size_text(self) -> str:
        return format_size(self.media_size)

    @property
    def media_is_audio(self) -> bool:
        return bool(self.media_file) and self.media_mime_type.startswith("audio/")


class WorkerEvent(models.Model):
    """One entry of a tenant's timeline: a change of status or state, and why."""

    class Kind(models.TextChoices):
        TENANT_STATUS = "TENANT_STATUS", "Tenant status changed"
        WORKER_STATUS = "WORKER_STATUS", "Worker status changed"
        SESSION_STATE = "SESSION_STATE", "Session state changed"
        QR_ISSUED = "QR_ISSUED", "QR code issued"
        STALE_MARKED = "STALE_MARKED", "Marked stale"
        ERROR = "ERROR", "Error"
        SETUP_REQUEST = "SETUP_REQUEST", "Setup request decided"
        COMMAND = "COMMAND", "Start/stop requested"
        GROUP = "GROUP", "Group membership changed"
        MEMORY = "MEMORY", "Memory limit reached"

    class MemoryRecovery(models.TextChoices):
        """What a MEMORY event's worker did (its ``new_value``)."""

        PAGE_RELOAD = "page_reload", "Page reloaded"
        BROWSER_RESTART = "browser_restart", "Browser restarted"

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    old_value = models.CharField(max_length=32, blank=True)
    new_value = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="workerevent_tenant_newest"),
            models.Index(fields=["kind", "-created_at"], name="workerevent_kind_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.old_value or '-'} → {self.new_value or '-'}"


class Incident(models.Model):
    """A tenant being down, from its first ERROR to its recovery: alerts are per incident."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="incidents")
    reason = models.TextField(blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_alert_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One open incident per tenant: two checkers racing can't both open (and alert).
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(closed_at__isnull=True), name="incident_one_open_per_tenant"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-opened_at"], name="incident_tenant_newest")]

    def __str__(self) -> str:
        return f"Incident of {self.tenant} since {self.opened_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One notice to staff (email, and the webhook when set), delivered from this outbox."""

    class Kind(models.TextChoices):
        DOWN = "DOWN", "Down"
        RECOVERED = "RECOVERED", "Recovered"
        REMINDER = "REMINDER", "Still down"
        FLAPPING = "FLAPPING", "Flapping"
        WEBHOOK = "WEBHOOK", "Webhook endpoint paused"

    class Delivery(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SENDING = "SENDING", "Sending"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    incident = models.ForeignKey(Incident, null=True, on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    old_status = models.CharField(max_length=32, blank=True)
    new_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["delivery", "next_attempt_at"], name="alert_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.tenant}"


class Counter(models.Model):
    """A total that only grows, shared by every process; exported as a Prometheus counter.

    ``name`` is the series itself: ``whatsapp_messages_total{direction="IN",tenant_id="…"}``.
    """

    name = models.CharField(max_length=255, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class LoginFailure(models.Model):
    """A failed sign-in, kept for a while to lock out password guessing."""

    id = models.BigAutoField(primary_key=True)
    email = models.CharField(max_length=254)
    ip_address = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ip_address", "-created_at"], name="loginfailure_ip_recent"),
            models.Index(fields=["ip_address", "email", "-created_at"], name="loginfailure_ip_email_recent"),
        ]

    def __str__(self) -> str:
        return f"Failed sign-in for {self.email}"


class TenantApiKey(models.Model):
    """A tenant's own key to the portal API: shown once, stored hashed, revocable, scoped."""

    class Scope(models.TextChoices):
        READ = "READ", "Read only"
        SEND = "SEND", "Read and send messages"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    # The key's public part, to find it and to tell keys apart in lists; the secret is hashed.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "tenant API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (wak_{self.prefix}_…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# --- Webhooks: the tenant's own program gets every event -----------------------------------


class WebhookEndpoint(TimestampedModel):
    """A URL of the tenant's that receives the events it subscribed to, signed with its secret."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # The event types it gets (tenants.webhooks.events.EVENT_TYPES).
    event_types = models.JSONField(default=list)
    # Standard Webhooks secrets (whsec_<base64>): the tenant's to verify with. After a
    # rotation the previous one also signs until previous_secret_expires_at.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The tenant's switch: a disabled endpoint gets no new events.
    enabled = models.BooleanField(default=True)
    # Set when it kept failing for WEBHOOK_DISABLE_AFTER_HOURS: nothing is sent, but events
    # still queue for it, and enabling it again sends what waits.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    # The first failure since its last success (NULL while it succeeds).
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def sending(self) -> bool:
        return self.enabled and self.paused_at is None


class WebhookEvent(models.Model):
    """Something that happened, written in the same transaction as the fact it reports."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40)
    # The body as sent: {"type", "timestamp", "data"}; the same bytes on every attempt.
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header: the same on every attempt and replay, for receivers to de-duplicate."""
        return webhook_id_of(self.id)


def webhook_id_of(event_id: uuid.UUID) -> str:
    return f"msg_{event_id.hex}"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: attempted until it succeeds, or dead; never dropped."""

    class State(models.TextChoices):
        PENDING = "PENDING", "Waiting"
        RETRYING = "RETRYING", "Failed, will retry"
        SUCCEEDED = "SUCCEEDED", "Delivered"
        DEAD = "DEAD", "Gave up"

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Deliveries with the same key go to their endpoint one after another, in the order their
    # facts happened (one chat's messages and acks; the session's states). "" for no order.
    order_key = models.CharField(max_length=160, blank=True)
    # Attempts in this round (a replay starts a new round); the schedule counts from these.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A dispatcher holds it until then; one that died holding it lets it go at that time.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [
            # The claim walks the waiting deliveries oldest first and stops at a batch: only
            # the waiting ones are indexed, so the walk never crosses the delivered ones.
            models.Index(
                fields=["id"],
                condition=Q(state__in=["PENDING", "RETRYING"]),
                name="webhookdelivery_waiting_id",
            ),
            # "Is an earlier delivery of this key still waiting?", asked by every claim: only the
            # waiting ones are indexed, so the answer does not slow as delivered ones pile up.
            models.Index(
                fields=["endpoint", "order_key", "id"],
                condition=Q(state__in=["PENDING", "RETRYING"]),
                name="webhookdelivery_waiting_order",
            ),
            models.Index(fields=["tenant", "-id"], name="webhookdelivery_tenant_newest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_once_per_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.get_state_display()})"

    @property
    def webhook_id(self) -> str:
        """Its event's ``webhook-id``, without loading the event."""
        return webhook_id_of(self.event_id)


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why it could not."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    # The first bytes of the answer, as text, for the tenant to see what its receiver said.
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"Attempt at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
