"""The tenant portal's pages: each checks access, validates, calls a service, renders.

Every view gets its tenant from ``tenant_required`` (who is signed in), and every object a
URL names is fetched filtered by that tenant, so another tenant's id is simply not found.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal import wording
from portal.access import tenant_required
from portal.forms import ApiKeyForm, LinkCodeForm, ReplyRuleForm, SendForm, SetupRequestForm
from tenants.access import signed_in_user
from tenants.api_keys import api_key_create, api_key_revoke
from tenants.charts import message_chart
from tenants.formatting import humanize_age
from tenants.history import DAY, WEEK, state_at, stop_words
from tenants.models import (
    Tenant,
    TenantApiKey,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
    time_since,
)
from tenants.selectors import (
    BadPageRequest,
    LinkCodeStatus,
    latest_conversations,
    link_code_offered,
    link_code_status,
    message_counts,
    message_log_page,
    parse_direction,
    parse_limit,
    session_states_since,
    setup_requests,
    tenant_hourly_messages,
    tenant_timeline,
    worker_last_problem,
    worker_last_stop_reason,
)
from tenants.services import (
    LinkCodeRefused,
    session_request_link_code,
    setup_request_create,
)
from workers import orchestration
from workers import services as worker_services
from workers.models import OutboundMessage, ReplyRule
from workers.selectors import outbound_queue
from workers.services import IdempotencyConflict, outbound_enqueue, outbound_media_upload

logger = logging.getLogger(__name__)

# The portal API the dashboard polls (portal/api_urls.py): the signed-in user's own tenant.
STATUS_API_URL = "/api/portal/tenant/current/status"
QR_API_URL = "/api/portal/tenant/current/qr"
POLL_MILLISECONDS = 2000
# The counts, chart and conversations change without a state change: fetched again this often.
REFRESH_MILLISECONDS = 30000
QUEUE_SHOWN = 50
SETUP_REQUESTS_SHOWN = 50
HISTORY_KINDS: list[str] = [
    WorkerEvent.Kind.SESSION_STATE,
    WorkerEvent.Kind.WORKER_STATUS,
    WorkerEvent.Kind.STALE_MARKED,
    WorkerEvent.Kind.ERROR,
    WorkerEvent.Kind.MEMORY,
]


def _page(
    request: HttpRequest,
    template: str,
    *,
    tenant: Tenant,
    section: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    suspended = wording.SUSPENDED_BANNER if tenant.status == Tenant.Status.SUSPENDED else ""
    return render(
        request,
        f"portal/{template}",
        {"tenant": tenant, "section": section, "suspended_banner": suspended, **(context or {})},
        status=status,
    )


# --- Dashboard -----------------------------------------------------------------------------


def _qr_context(session: WhatsAppSession) -> dict[str, Any] | None:
    if session.state != WhatsAppSession.State.QR or not session.last_qr_data_uri:
        return None
    lifetime = settings.QR_EXPECTED_LIFETIME_SECONDS
    age = time_since(session.qr_issued_at, timezone.now()) or timedelta(0)
    expires_in = max(int(lifetime - age.total_seconds()), 0)
    count_words, countdown_words = wording.qr_caption(
        count=session.qr_refresh_count, max_count=settings.QR_MAX_REFRESHES, expires_in=expires_in
    )
    return {
        "data_uri": session.last_qr_data_uri,
        "count": session.qr_refresh_count,
        "expires_in": expires_in,
        "count_words": count_words,
        "countdown_words": countdown_words,
    }


def _startable(tenant: Tenant) -> bool:
    """A tenant may start its own bot whenever it is not running, unless staff suspended it."""
    not_running = tenant.worker.status in (WorkerProcess.Status.STOPPED, WorkerProcess.Status.ERROR)
    return not_running and tenant.status != Tenant.Status.SUSPENDED


def _stopped_for_want_of_a_scan(worker: WorkerProcess) -> bool:
    if worker.status != WorkerProcess.Status.STOPPED:
        return False  # saves the query: only a stopped worker waits for a scan
    return bool(stop_words(worker.status, worker_last_stop_reason(tenant=worker.tenant)))


def _needs_login(tenant: Tenant, no_scan: bool) -> bool:
    """Whether starting will show a code to scan, rather than reconnect a linked phone."""
    relink = tenant.session.state in (WhatsAppSession.State.LOGGED_OUT, WhatsAppSession.State.AUTH_FAILURE)
    return no_scan or relink or tenant.status == Tenant.Status.NEW


def _is_past(at: datetime, worker: WorkerProcess, session: WhatsAppSession) -> bool:
    """A problem is past once the session connected again after it, or the bot stopped cleanly."""
    if session.state == WhatsAppSession.State.CONNECTED and session.state_changed_at > at:
        return True
    stopped_at = worker.stopped_at if worker.status == WorkerProcess.Status.STOPPED else None
    return stopped_at is not None and stopped_at > at


def _problem(worker: WorkerProcess, session: WhatsAppSession, now: datetime) -> wording.ProblemWords:
    event = worker_last_problem(worker=worker)
    if event is None:
        return wording.problem_words(worker.last_error, at=None, now=now, resolved=False)
    return wording.problem_words(
        worker.last_error,
        at=timezone.localtime(event.created_at),
        now=timezone.localtime(now),
        resolved=_is_past(event.created_at, worker, session),
    )


def text_hash(text: str) -> int:
    """``textHash`` of dashboard.js: 31-based over UTF-16 code units, modulo 2**32.

    The page tells its script which last error it shows without showing the raw text,
    which can name hosts or exceptions.
    """
    code_units = text.encode("utf-16-le")
    value = 0
    for index in range(0, len(code_units), 2):
        value = (value * 31 + int.from_bytes(code_units[index : index + 2], "little")) & 0xFFFFFFFF
    return value


def _rendered(tenant: Tenant, link: LinkCodeStatus) -> str:
    """What the page was rendered from, as the script reads it from the status API."""
    session, worker = tenant.session, tenant.worker
    changed = int(session.state_changed_at.timestamp())
    error = text_hash(worker.last_error)
    place = worker.start_position or ""
    return f"{session.state}|{changed}|{worker.status}|{place}|{tenant.status}|{error}|{link.state}"


def _status_context(tenant: Tenant, now: datetime) -> dict[str, Any]:
    session, worker = tenant.session, tenant.worker
    no_scan = _stopped_for_want_of_a_scan(worker)
    startable = _startable(tenant)
    link = link_code_status(session=session, now=now)
    return {
        "session": session,
        "state": wording.dashboard_state_words(
            session.state,
            since=timezone.localtime(session.state_changed_at),
            no_scan=no_scan,
            suspended=tenant.status == Tenant.Status.SUSPENDED,
            start_position=worker.start_position,
        ),
        "heartbeat": humanize_age(session.heartbeat_age(now)),
        "worker_words": wording.worker_words(worker.status),
        "tenant_words": wording.tenant_words(tenant.status),
        "problem": _problem(worker, session, now),
        "qr": _qr_context(session),
        # Linking by phone number is offered while a login is awaited, beside the QR code.
        "linkable": link_code_offered(tenant),
        "link": link,
        "start_label": wording.start_words(needs_login=_needs_login(tenant, no_scan))[0] if startable else "",
        "rendered": _rendered(tenant, link),
    }


def _outbound_counts(tenant: Tenant, *, today_start: datetime, week_start: datetime) -> dict[str, int]:
    """Rule replies sent today and this week, and the queue, in one query."""
    Status = OutboundMessage.Status
    waiting = [Status.QUEUED, Status.SENDING, Status.HELD]
    rule_sent = Q(source=OutboundMessage.Source.RULE, status=Status.SENT)
    recent = OutboundMessage.objects.filter(tenant=tenant).filter(
        Q(status__in=waiting) | Q(updated_at__gte=min(today_start, week_start))
    )
    return recent.aggregate(
        rule_replies_today=Count("id", filter=rule_sent & Q(sent_at__gte=today_start)),
        rule_replies_week=Count("id", filter=rule_sent & Q(sent_at__gte=week_start)),
        queued=Count("id", filter=Q(status__in=[Status.QUEUED, Status.SENDING])),
        held=Count("id", filter=Q(status=Status.HELD)),
        failed_week=Count("id", filter=Q(status=Status.FAILED, updated_at__gte=week_start)),
    )


def _activity_context(tenant: Tenant, now: datetime) -> dict[str, Any]:
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = now - WEEK
    return {
        "counts": message_counts(tenant=tenant, today_start=today_start, week_start=week_start),
        "outbound": _outbound_counts(tenant, today_start=today_start, week_start=week_start),
        "chart": message_chart(tenant_hourly_messages(tenant=tenant, now=now)),
        "conversations": latest_conversations(tenant=tenant),
    }


@tenant_required
def dashboard(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _dashboard_page(request, tenant, LinkCodeForm())


def _dashboard_page(
    request: HttpRequest, tenant: Tenant, link_form: LinkCodeForm, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    live_config = {
        **wording.dashboard_wording(),
        "statusUrl": STATUS_API_URL,
        "qrUrl": QR_API_URL,
        "pageUrl": reverse("portal:dashboard"),
        "pollMs": POLL_MILLISECONDS,
        "refreshMs": REFRESH_MILLISECONDS,
    }
    context = {
        **_status_context(tenant, now),
        **_activity_context(tenant, now),
        "link_form": link_form,
        "live_config": live_config,
    }
    return _page(
        request, "dashboard.html", tenant=tenant, section="dashboard", context=context, status=status
    )


@tenant_required
@require_POST
def link_code(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Link by phone number instead of QR: the worker asks WhatsApp for a pairing code."""
    form = LinkCodeForm(request.POST)
    if not form.is_valid():
        return _dashboard_page(request, tenant, form, status=400)
    try:
        session_request_link_code(session=tenant.session, phone=form.cleaned_data["phone"])
    except LinkCodeRefused as exc:
        messages.error(request, exc.messages[0])
        return _dashboard_page(request, tenant, LinkCodeForm(), status=409)
    messages.success(request, wording.LINK_CODE_ASKED)
    return redirect("portal:dashboard")


@tenant_required
@require_POST
def worker_start(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The dashboard's start button: a new round of codes, or a reconnect, without asking us."""
    if tenant.status == Tenant.Status.SUSPENDED:
        messages.error(request, wording.START_SUSPENDED)
        return redirect("portal:dashboard")
    if not _startable(tenant):
        messages.info(request, wording.START_RUNNING)
        return redirect("portal:dashboard")
    _, started_words = wording.start_words(
        needs_login=_needs_login(tenant, _stopped_for_want_of_a_scan(tenant.worker))
    )
    try:
        orchestration.worker_start(tenant=tenant, by=signed_in_user(request).email)
    except orchestration.WorkerHostsUnreachable as exc:
        logger.warning(
            "portal start: supervisord unreachable", extra={"tenant_id": str(tenant.id), "error": str(exc)}
        )
        messages.error(request, wording.START_UNAVAILABLE)
    except orchestration.OrchestrationError as exc:
        logger.warning("portal start failed", extra={"tenant_id": str(tenant.id), "error": str(exc)})
        messages.error(request, wording.START_FAILED)
    else:
        messages.success(request, started_words)
    return redirect("portal:dashboard")


# --- Messages ------------------------------------------------------------------------------


def _messages_link(request: HttpRequest, before: str | None = None) -> str:
    """The messages page with the same filters, from ``before`` (or the newest)."""
    params = {key: request.GET[key] for key in ("direction", "q", "limit") if request.GET.get(key)}
    if before:
        params["before"] = before
    path = reverse("portal:messages")
    return f"{path}?{urlencode(params)}" if params else path


@tenant_required
def message_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    query = request.GET
    context: dict[str, Any] = {
        "direction": query.get("direction", ""),
        "q": query.get("q", ""),
        "paged": bool(query.get("before")),
    }
    try:
        page = message_log_page(
            tenant=tenant,
            limit=parse_limit(query.get("limit")),
            before=query.get("before") or None,
            direction=parse_direction(query.get("direction")),
            q=query.get("q", ""),
        )
    except BadPageRequest as exc:
        context["error"] = str(exc)
        return _page(request, "messages.html", tenant=tenant, section="messages", context=context, status=400)
    context.update(
        page=page,
        rows=[(message, wording.ticks(message.ack)) for message in page.messages],
        older_url=_messages_link(request, page.next_cursor) if page.next_cursor else None,
        newest_url=_messages_link(request),
    )
    return _page(request, "messages.html", tenant=tenant, section="messages", context=context)


# --- Send ----------------------------------------------------------------------------------


def _send_page(request: HttpRequest, tenant: Tenant, form: SendForm, status: int = 200) -> HttpResponse:
    queue = outbound_queue(tenant=tenant, limit=QUEUE_SHOWN)
    # The service refuses a suspended tenant's send; the form says so before it is filled in.
    switched_off = wording.SUSPENDED_SENDING if tenant.status == Tenant.Status.SUSPENDED else ""
    rows = [(message, wording.ticks(message.ack)) for message in queue]
    context = {"form": form, "rows": rows, "switched_off": switched_off}
    return _page(request, "send.html", tenant=tenant, section="send", context=context, status=status)


@tenant_required
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method != "POST":
        return _send_page(request, tenant, SendForm())
    form = SendForm(request.POST, request.FILES)
    if not form.is_valid():
        return _send_page(request, tenant, form, status=400)
    data = form.cleaned_data
    try:
        upload = data.get("file")
        media = (
            outbound_media_upload(tenant=tenant, upload=upload, voice_note=data["voice_note"])
            if upload
            else None
        )
        message, created = outbound_enqueue(
            tenant=tenant,
            to_number=data["to_number"],
            text=data["text"],
            source=OutboundMessage.Source.PORTAL,
            idempotency_key=f"portal:{data['token']}",
            media=media,
        )
    except IdempotencyConflict:
        # The same form sent again with other content (Back, edit, Send): offer a new token.
        fresh = SendForm({**request.POST.dict(), "token": str(uuid.uuid4())})
        fresh.is_valid()
        fresh.add_error(
            None,
            "This form was already used for another message. Check the queue below, then press Send again.",
        )
        return _send_page(request, tenant, fresh, status=400)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _send_page(request, tenant, form, status=400)
    if created:
        to = message.to_number if "@" in message.to_number else f"+{message.to_number}"
        what = "file" if message.media_kind else "message"
        messages.success(request, f"Your {what} to {to} is queued.")
    else:
        messages.info(request, "That message was already queued; it will be sent once.")
    return redirect("portal:send")


# --- Reply rules ---------------------------------------------------------------------------


def _rule_of(tenant: Tenant, rule_id: uuid.UUID) -> ReplyRule:
    return get_object_or_404(ReplyRule, tenant=tenant, pk=rule_id)


@tenant_required
def rule_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    rules = ReplyRule.objects.filter(tenant=tenant).order_by("priority", "created_at")
    return _page(request, "rules.html", tenant=tenant, section="rules", context={"rules": rules})


def _rule_form(
    request: HttpRequest, tenant: Tenant, rule: ReplyRule | None, save: Callable[[dict], ReplyRule]
) -> HttpResponse:
    """The rule form page: shown on GET; on POST saved through ``save`` (given the cleaned
    fields) and back to the list, or shown again with what was wrong (400)."""
    form = ReplyRuleForm(request.POST or None, instance=rule)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = save(form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Rule “{saved}” {'saved' if rule else 'added'}.")
                return redirect("portal:rules")
        status = 400
    context = {"form": form, "rule": rule}
    return _page(request, "rule_form.html", tenant=tenant, section="rules", context=context, status=status)


@tenant_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _rule_form(
        request, tenant, None, lambda fields: worker_services.reply_rule_create(tenant=tenant, **fields)
    )


@tenant_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, tenant: Tenant, rule_id: uuid.UUID) -> HttpResponse:
    rule = _rule_of(tenant, rule_id)
    return _rule_form(
        request, tenant, rule, lambda fields: worker_services.reply_rule_update(rule=rule, **fields)
    )


@tenant_required
@require_POST
def rule_toggle(request: HttpRequest, tenant: Tenant, rule_id: uuid.UUID) -> HttpResponse:
    rule = _rule_of(tenant, rule_id)
    # The button says which way: two clicks (or two tabs) can't flip it back by accident.
    wanted = request.POST.get("enabled")
    if wanted not in ("0", "1"):
        return HttpResponse("Say whether to switch the rule on (enabled=1) or off (enabled=0).", status=400)
    worker_services.reply_rule_set_enabled(rule=rule, enabled=wanted == "1")
    messages.success(request, f"Rule “{rule}” is {'on' if rule.enabled else 'off'}.")
    return redirect("portal:rules")


@tenant_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, tenant: Tenant, rule_id: uuid.UUID) -> HttpResponse:
    rule = _rule_of(tenant, rule_id)
    if request.method != "POST":
        return _page(request, "rule_delete.html", tenant=tenant, section="rules", context={"rule": rule})
    name = str(rule)
    worker_services.reply_rule_delete(rule=rule)
    messages.success(request, f"Rule “{name}” deleted.")
    return redirect("portal:rules")


# --- History -------------------------------------------------------------------------------


def _uptime_strips(tenant: Tenant, now: datetime) -> list[tuple[str, wording.UptimeStrip]]:
    """The 24-hour and 7-day strips; one while the tenant's first state is under a day old."""
    week_start, day_start = now - WEEK, now - DAY
    before_week, week = session_states_since(tenant=tenant, start=week_start, now=now)
    before_day, day = state_at(before_week, week, day_start)
    day_strip = wording.uptime_strip(
        before=before_day, changes=day, start=day_start, now=now, period="Connected, last 24 hours"
    )
    if day_strip is None or day_strip.since is not None:
        # Nothing before the day began: the week is the same period, told once.
        return [("day", day_strip)] if day_strip else []
    week_strip = wording.uptime_strip(
        before=before_week, changes=week, start=week_start, now=now, period="Connected, last 7 days"
    )
    # The day's strip starts before the day (its since is None): the week has a state too.
    assert week_strip is not None
    return [("day", day_strip), ("week", week_strip)]


@tenant_required
def history(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    now = timezone.now()
    events = tenant_timeline(tenant=tenant, kinds=HISTORY_KINDS)
    context = {"entries": wording.timeline_entries(events, now), "strips": _uptime_strips(tenant, now)}
    return _page(request, "history.html", tenant=tenant, section="history", context=context)


# --- Setup ---------------------------------------------------------------------------------


@tenant_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = SetupRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                setup_request_create(
                    tenant=tenant, user=signed_in_user(request), notes=form.cleaned_data["notes"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Thanks — we have your request and will be in touch.")
                return redirect(reverse("portal:setup"))
        status = 400
    requests = setup_requests(tenant=tenant, limit=SETUP_REQUESTS_SHOWN)
    context = {"form": form, "requests": requests}
    return _page(request, "setup.html", tenant=tenant, section="setup", context=context, status=status)


# --- API keys ------------------------------------------------------------------------------


@tenant_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    created_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _, created_key = api_key_create(
                tenant=tenant,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                created_by=signed_in_user(request),
            )
            form = ApiKeyForm()
        else:
            status = 400
    keys = TenantApiKey.objects.filter(tenant=tenant).order_by("-created_at")[:100]
    context = {"form": form, "keys": keys, "created_key": created_key}
    response = _page(
        request, "api_keys.html", tenant=tenant, section="api_keys", context=context, status=status
    )
    # The page shows a secret once: never from a cache, never again.
    response["Cache-Control"] = "no-store"
    return response


@tenant_required
@require_POST
def api_key_revoke_view(request: HttpRequest, tenant: Tenant, key_id: uuid.UUID) -> HttpResponse:
    key = get_object_or_404(TenantApiKey, tenant=tenant, pk=key_id)
    try:
        api_key_revoke(key=key)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"The key “{key.name}” no longer works.")
    return redirect(reverse("portal:api_keys"))
