"""Reads used in several places (portal pages, portal API, admin API): one tenant at a time.

Message logs page by keyset on (created_at, id), newest first: the cost of a page does not
grow with how deep it is, unlike OFFSET, and rows arriving meanwhile never shift a page.
"""

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import BadRequest, ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, When
from django.db.models.functions import TruncHour
from django.utils import timezone

from tenants.history import uptime_from_events
from tenants.models import (
    LINKABLE_STATES,
    MessageLog,
    SetupRequest,
    Tenant,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_QUERY_LENGTH = 100


class BadPageRequest(BadRequest, ValueError):
    """A limit, cursor or filter that can't be used; the message says which and why."""


@dataclass(frozen=True)
class MessagePage:
    messages: list[MessageLog]
    next_cursor: str | None  # pass as ``before`` for the next (older) page


def encode_cursor(message: MessageLog) -> str:
    raw = f"{message.created_at.isoformat()}|{message.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, message_id = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, uuid.UUID(message_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadPageRequest("before: not a cursor this API gave out (use next_cursor from a page)") from None


def parse_limit(value: str | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """A page's ``limit`` parameter: the default when absent, else a whole number from 1 to maximum."""
    if value in (None, ""):
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise BadPageRequest(f"limit: a whole number from 1 to {maximum}; got {value[:20]!r}")
    return int(value)


def parse_direction(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in MessageLog.Direction.values:
        raise BadPageRequest(f"direction: IN or OUT; got {value[:20]!r}")
    return value


def _search(queryset: QuerySet[MessageLog], q: str) -> QuerySet[MessageLog]:
    if len(q) > MAX_QUERY_LENGTH:
        raise BadPageRequest(f"q: at most {MAX_QUERY_LENGTH} characters")
    digits = q.strip().removeprefix("+").replace(" ", "")
    if digits.isdigit():
        # A number: a prefix of either party (the index-friendly match).
        return queryset.filter(Q(from_number__startswith=digits) | Q(to_number__startswith=digits))
    return queryset.filter(message_text__icontains=q.strip())


def message_log_page(
    *,
    tenant: Tenant,
    limit: int = DEFAULT_PAGE_SIZE,
    before: str | None = None,
    direction: str | None = None,
    q: str = "",
) -> MessagePage:
    """One page of a tenant's message log, newest first."""
    queryset = MessageLog.objects.filter(tenant=tenant)
    if direction:
        queryset = queryset.filter(direction=direction)
    if q.strip():
        queryset = _search(queryset, q)
    if before:
        created_at, message_id = decode_cursor(before)
        # The first condition is implied by the second, but the planner can start an index
        # range scan from it; the OR alone would make it scan from the newest row.
        queryset = queryset.filter(created_at__lte=created_at).filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=message_id)
        )
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return MessagePage(messages=rows, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


def setup_requests(*, limit: int, tenant: Tenant | None = None, status: str = "") -> list[SetupRequest]:
    """Setup requests, newest first: one tenant's (the portal) or every tenant's (the staff API).

    Each caller says how many it shows. The user comes in the same query: the staff API names
    who asked.
    """
    requests = SetupRequest.objects.select_related("user")
    if tenant is not None:
        requests = requests.filter(tenant=tenant)
    if status:
        requests = requests.filter(status=status)
    return list(requests.order_by("-created_at", "-id")[:limit])


def tenant_timeline(*, tenant: Tenant, limit: int = 200, kinds: list[str] | None = None) -> list[WorkerEvent]:
    events = WorkerEvent.objects.filter(tenant=tenant)
    if kinds:
        events = events.filter(kind__in=kinds)
    return list(events.order_by("-created_at", "-id")[:limit])


def session_uptime(*, tenant: Tenant, window: timedelta, now: datetime | None = None) -> float | None:
    """The share of ``window`` the session was CONNECTED, from the timeline; None if no data."""
    now = now or timezone.now()
    start = now - window
    before, changes = session_states_since(tenant=tenant, start=start, now=now)
    return uptime_from_events(before, changes, start, now)


# --- Messages per hour: the admin's chart and the portal's -------------------------------------

CHART_HOURS = 24


@dataclass(frozen=True)
class HourCount:
    hour: datetime  # the start of the hour
    incoming: int
    outgoing: int


def hour_buckets(
    counts: Iterable[tuple[datetime, str, int]], *, first_hour: datetime, hours: int = CHART_HOURS
) -> list[HourCount]:
    """One entry per hour from ``first_hour``, zeros included, from (hour, direction, count) rows."""
    by_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour, direction, count in counts:
        by_hour[hour][direction] = count
    buckets = []
    for offset in range(hours):
        hour = first_hour + timedelta(hours=offset)
        found = by_hour.get(hour, {})
        buckets.append(
            HourCount(
                hour=hour,
                incoming=found.get(MessageLog.Direction.IN, 0),
                outgoing=found.get(MessageLog.Direction.OUT, 0),
            )
        )
    return buckets


def hourly_messages(now: datetime, tenant: Tenant | None = None) -> list[HourCount]:
    """Messages per hour over the chart's hours, zeros included: all tenants', or one's."""
    first_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=CHART_HOURS - 1
    )
    messages = MessageLog.objects.all() if tenant is None else MessageLog.objects.filter(tenant=tenant)
    rows = (
        messages.filter(created_at__gte=first_hour, created_at__lte=now)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "direction")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("hour", "direction", "n")
    )
    return hour_buckets(rows, first_hour=first_hour)


# --- The portal's dashboard and history ------------------------------------------------------

LATEST_CONVERSATIONS = 5
# How many of the newest messages are read to find the latest conversations: a bounded read
# of the (tenant, created_at) index, where a GROUP BY over every message would grow with them.
CONVERSATION_SCAN = 200


def worker_last_problem(*, worker: WorkerProcess) -> WorkerEvent | None:
    """The event that recorded the worker's ``last_error`` (for its time); None without one.

    The stale check words its event differently from the error it stores, so when no event
    has the error's exact words the newest problem stands for it.
    """
    if not worker.last_error:
        return None
    problems = WorkerEvent.objects.filter(tenant_id=worker.tenant_id).filter(
        Q(kind__in=[WorkerEvent.Kind.ERROR, WorkerEvent.Kind.STALE_MARKED])
        | Q(kind=WorkerEvent.Kind.WORKER_STATUS, new_value=WorkerProcess.Status.ERROR)
    )
    exact = Case(When(reason=worker.last_error, then=1), default=0, output_field=IntegerField())
    return problems.annotate(exact=exact).order_by("-exact", "-created_at", "-id").first()


def worker_last_stop_reason(*, tenant: Tenant) -> str:
    """Why the worker last stopped (what ``tenants.history.stop_words`` reads); "" if never."""
    stops = WorkerEvent.objects.filter(
        tenant=tenant, kind=WorkerEvent.Kind.WORKER_STATUS, new_value=WorkerProcess.Status.STOPPED
    )
    return stops.order_by("-created_at", "-id").values_list("reason", flat=True).first() or ""


def session_states_since(
    *, tenant: Tenant, start: datetime, now: datetime
) -> tuple[str | None, list[tuple[datetime, str]]]:
    """The state recorded last before ``start`` (None: none was) and the changes from ``start``.

    Changes are (time, new state), oldest first: what ``tenants.history.uptime_from_events``
    and ``state_at`` read, so the portal's uptime is the admin's.
    """
    states = WorkerEvent.objects.filter(tenant=tenant, kind=WorkerEvent.Kind.SESSION_STATE)
    before = (
        states.filter(created_at__lt=start).order_by("-created_at", "-id").values_list("new_value", flat=True)
    ).first()
    changes = states.filter(created_at__gte=start, created_at__lte=now).order_by("created_at", "id")
    return before, list(changes.values_list("created_at", "new_value"))


@dataclass(frozen=True)
class MessageCounts:
    in_today: int
    out_today: int
    in_week: int
    out_week: int


def message_counts(*, tenant: Tenant, today_start: datetime, week_start: datetime) -> MessageCounts:
    """Messages in and out since ``today_start`` and since ``week_start``, in one query."""
    In, Out = MessageLog.Direction.IN, MessageLog.Direction.OUT
    today = Q(created_at__gte=today_start)
    counts = MessageLog.objects.filter(tenant=tenant, created_at__gte=min(today_start, week_start)).aggregate(
        in_today=Count("id", filter=today & Q(direction=In)),
        out_today=Count("id", filter=today & Q(direction=Out)),
        in_week=Count("id", filter=Q(created_at__gte=week_start, direction=In)),
        out_week=Count("id", filter=Q(created_at__gte=week_start, direction=Out)),
    )
    return MessageCounts(**counts)


def tenant_hourly_messages(*, tenant: Tenant, now: datetime) -> list[HourCount]:
    """The tenant's messages per hour over the admin chart's hours, zeros included."""
    return hourly_messages(now, tenant)


@dataclass(frozen=True)
class Conversation:
    peer: str  # the other party's number, or its LID when WhatsApp hides the number
    last: MessageLog  # the newest message with them


def latest_conversations(*, tenant: Tenant, limit: int = LATEST_CONVERSATIONS) -> list[Conversation]:
    """The latest chats, newest first: one per other party, with its newest message."""
    newest = MessageLog.objects.filter(tenant=tenant).order_by("-created_at", "-id")[:CONVERSATION_SCAN]
    latest: dict[str, Conversation] = {}
    for message in newest:
        inbound = message.direction == MessageLog.Direction.IN
        peer = (message.from_number or message.sender_id) if inbound else message.to_number
        if peer and peer not in latest:
            latest[peer] = Conversation(peer=peer, last=message)
            if len(latest) == limit:
                break
    return list(latest.values())


@dataclass(frozen=True)
class LinkCodeStatus:
    """Where linking by phone number stands: the portal page and the API read this one rule.

    ``state`` is ``none`` (not asked for), ``asked`` (the worker is asking WhatsApp),
    ``shown`` (a code to enter on the phone, until ``expires_at``) or ``ended`` (expired or
    refused, ``error`` says which: the tenant may ask again).
    """

    state: str
    phone: str = ""
    code: str = ""
    expires_at: datetime | None = None
    expires_in_seconds: int = 0
    error: str = ""

    @property
    def code_words(self) -> str:
        """The code as WhatsApp shows it on the phone: two groups of four (``ABCD-EFGH``)."""
        return f"{self.code[:4]}-{self.code[4:]}" if len(self.code) == 8 else self.code


LINK_CODE_EXPIRED = "The pairing code expired; ask for a new one."


def link_code_offered(tenant: Tenant) -> bool:
    """Linking by phone number is offered while a login is awaited, beside the QR code."""
    return tenant.session.state in LINKABLE_STATES and tenant.status != Tenant.Status.SUSPENDED


def link_code_status(*, session: WhatsAppSession, now: datetime | None = None) -> LinkCodeStatus:
    now = now or timezone.now()
    if session.link_code and session.link_code_expires_at:
        left = int((session.link_code_expires_at - now).total_seconds())
        if left <= 0:  # the worker says so too, unless it stopped before it could
            return LinkCodeStatus("ended", error=LINK_CODE_EXPIRED)
        return LinkCodeStatus(
            "shown",
            phone=session.link_phone,
            code=session.link_code,
            expires_at=session.link_code_expires_at,
            expires_in_seconds=left,
        )
    if session.link_phone:
        return LinkCodeStatus("asked", phone=session.link_phone)
    if session.link_code_error:
        return LinkCodeStatus("ended", error=session.link_code_error)
    return LinkCodeStatus("none")


def incoming_logged(*, tenant: Tenant, wa_message_id: str) -> bool:
    """Whether this incoming message is logged already (then its file is not fetched again)."""
    return MessageLog.objects.filter(
        tenant=tenant, wa_message_id=wa_message_id, direction=MessageLog.Direction.IN
    ).exists()


def message_of(*, tenant: Tenant, log_id: uuid.UUID | str) -> MessageLog | None:
    """One of the tenant's own logged messages; another tenant's (or no valid id) is None."""
    try:
        return MessageLog.objects.get(tenant=tenant, pk=log_id)
    except (MessageLog.DoesNotExist, ValueError, ValidationError):
        return None


def media_stored(*, tenant_ids: list | None = None) -> dict[str, tuple[int, int]]:
    """Each tenant's kept media: {tenant id: (files, bytes)} (for /metrics and the admin)."""
    rows = MessageLog.objects.exclude(media_file="")
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=tenant_ids)
    totals = rows.values("tenant_id").annotate(files=Count("id"), size=Sum("media_size")).order_by()
    return {str(row["tenant_id"]): (row["files"], row["size"] or 0) for row in totals}
