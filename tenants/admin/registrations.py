"""The staff's view of the platform: tenants, workers, sessions, messages and the timeline.

Every changelist selects its related rows in the same query (no N+1), and the large tables
(messages, events) never run COUNT(*) over the whole table to draw a page.
"""

from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from tenants import services
from tenants.access import signed_in_user
from tenants.admin.overview import last_stop_reason
from tenants.api_keys import api_key_revoke
from tenants.formatting import format_size, humanize_age
from tenants.history import stop_words, worker_words
from tenants.media import media_response
from tenants.models import (
    Ack,
    MessageLog,
    SetupRequest,
    Tenant,
    TenantApiKey,
    User,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
)
from tenants.selectors import media_stored
from tenants.throttle import ThrottledLoginMixin
from workers import deletion, orchestration, suspension

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # For the type checker the action mixins are the ModelAdmin they are mixed into (its
    # message_user); at run time they stay plain mixins, the MRO unchanged.
    _ModelAdminBase = admin.ModelAdmin
else:
    _ModelAdminBase = object

# Colours of the status badges, by value; anything unlisted is grey.
BADGE_COLOURS = {
    "ACTIVE": "ok",
    "RUNNING": "ok",
    "CONNECTED": "ok",
    "APPROVED": "ok",
    "DONE": "ok",
    "SENT": "ok",
    "NEW": "info",
    "STARTING": "info",
    "QR": "info",
    "PENDING": "info",
    "STOPPING": "info",
    "QUEUED": "info",
    "SENDING": "info",
    "ERROR": "bad",
    "LOGGED_OUT": "bad",
    "AUTH_FAILURE": "bad",
    "CONFLICT": "bad",
    "REJECTED": "bad",
    "FAILED": "bad",
    "DISCONNECTED": "warn",
    "PHONE_UNREACHABLE": "warn",
    "DEGRADED": "warn",
    "SUSPENDED": "warn",
    "UNCONFIRMED": "warn",
    "HELD": "warn",
    "BLOCKED": "bad",
    "UPDATE_NEEDED": "bad",
    # Webhook deliveries (PENDING above): retrying, delivered, given up.
    "RETRYING": "warn",
    "SUCCEEDED": "ok",
    "DEAD": "bad",
}


def ack_label(ack: int | None) -> str:
    """WhatsApp's latest ack of a sent message, in the words wa-js's levels stand for."""
    return "-" if ack is None else Ack(ack).label if ack in Ack.values else str(ack)


def badge(value: str, label: str, *, tone: str = "") -> str:
    return format_html(
        '<span class="badge badge-{}">{}</span>', tone or BADGE_COLOURS.get(value, "off"), label
    )


# Free text in a list is cut to this many characters (names a little shorter, as they share
# their row with more columns), so that every row of every list fits on one line at 1,400 px.
LIST_TEXT = 32
LIST_NAME = 28


def truncated(text: str | None, limit: int = LIST_TEXT) -> str:
    """A list cell's free text on one line: at most ``limit`` characters, all of it on hover."""
    full = text or ""
    line = " ".join(full.split())
    if not line:
        return "-"
    if len(line) <= limit:
        return format_html('<span class="cell-text">{}</span>', line)
    return format_html('<span class="cell-text" title="{}">{}…</span>', full, line[: limit - 1].rstrip())


def exact_time(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S %Z}" if value else "never"


def moment(value: datetime | None) -> str:
    """A time in a list, to the minute; to the second, with its zone, on hover."""
    if value is None:
        return "-"
    return format_html(
        '<span class="cell-text" title="{}">{}</span>',
        exact_time(value),
        f"{timezone.localtime(value):%Y-%m-%d %H:%M}",
    )


class _HasTenant(Protocol):
    @property
    def tenant(self) -> Tenant: ...


class TenantColumn:
    """The tenant of a row, by name, cut short for lists."""

    @admin.display(description="tenant", ordering="tenant__name")
    def tenant_name(self, obj: _HasTenant) -> str:
        return truncated(obj.tenant.name, LIST_NAME)


class LargeTablePaginator(Paginator):
    """A paginator that does not COUNT(*) millions of rows to draw one page.

    On PostgreSQL an unfiltered table's size comes from the planner's estimate, and a
    filtered count gets a short time limit, past which the page says "many".
    """

    ESTIMATE_ABOVE = 100_000
    COUNT_TIMEOUT_MS = 300

    object_list: QuerySet[Any]  # the admin's changelists paginate querysets

    @cached_property
    def count(self) -> int:
        if connection.vendor != "postgresql":
            return super().count
        query = self.object_list.query
        if not query.where:
            estimate = self._planner_estimate(self.object_list.model._meta.db_table)
            if estimate > self.ESTIMATE_ABOVE:
                return estimate
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {self.COUNT_TIMEOUT_MS}")
                count = super().count
                # SET LOCAL outlives the savepoint inside an outer transaction: undo it.
                cursor.execute("SET LOCAL statement_timeout = DEFAULT")
                return count
        except DatabaseError:  # the count hit its time limit: too many to count cheaply
            return self.ESTIMATE_ABOVE

    @staticmethod
    def _planner_estimate(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] and row[0] > 0 else 0


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# supervisord's programs, fetched once per changelist page (one call per host), not per row.
_supervisor_programs: ContextVar[tuple[dict, list[str]] | None] = ContextVar(
    "supervisor_programs", default=None
)


class WorkerActionsMixin(_ModelAdminBase):
    """Start, stop and restart workers from a changelist; each calls the orchestration service."""

    def _tenants(self, queryset: QuerySet) -> list[Tenant]:
        return [getattr(obj, "tenant", obj) for obj in queryset]

    def _run(self, request: HttpRequest, queryset: QuerySet, action: str) -> None:
        for tenant in self._tenants(queryset):
            try:
                by = signed_in_user(request).email
                view = orchestration.worker_action(tenant=tenant, action=action, by=by)
            except orchestration.OrchestrationError as exc:
                self.message_user(request, f"{tenant.name}: {action} failed: {exc}", messages.ERROR)
                continue
            state = view.supervisor.state if view.supervisor else "no program"
            self.message_user(
                request, f"{tenant.name}: {action} done (supervisord: {state})", messages.SUCCESS
            )

    @admin.action(description="Start the selected workers")
    def start_workers(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, "start")

    @admin.action(description="Stop the selected workers")
    def stop_workers(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, "stop")

    @admin.action(description="Restart the selected workers")
    def restart_workers(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, "restart")


class SuspensionActionsMixin(_ModelAdminBase):
    """Suspend and reactivate from the tenant list, through the one suspension service."""

    @admin.action(description="Suspend the selected tenants (stops workers and sends, holds queues)")
    def suspend_tenants(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset.exclude(status=Tenant.Status.SUSPENDED):
            result = suspension.tenant_suspend(tenant=tenant, by=signed_in_user(request).email)
            note = "" if result.worker_stopped else f"; its worker stops by itself ({result.worker_error})"
            self.message_user(request, f"{tenant.name}: suspended, {result.held} message(s) held{note}")

    @admin.action(description="Reactivate the selected tenants (keep held messages held)")
    def reactivate_tenants(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._reactivate(request, queryset, release_held=False)

    @admin.action(description="Reactivate the selected tenants and send their held messages")
    def reactivate_and_release(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._reactivate(request, queryset, release_held=True)

    def _reactivate(self, request: HttpRequest, queryset: QuerySet[Tenant], *, release_held: bool) -> None:
        for tenant in queryset.filter(status=Tenant.Status.SUSPENDED):
            result = suspension.tenant_reactivate(
                tenant=tenant, by=signed_in_user(request).email, release_held=release_held
            )
            self.message_user(
                request, f"{tenant.name}: reactivated, {result.held} held message(s) queued again"
            )


class _TenantCounts(TypedDict):
    """What TenantAdmin.get_queryset annotates each tenant with."""

    n_messages: int
    stop_reason: str | None


@admin.register(Tenant)
class TenantAdmin(SuspensionActionsMixin, WorkerActionsMixin, admin.ModelAdmin):
    actions = [
        "start_workers",
        "stop_workers",
        "restart_workers",
        "suspend_tenants",
        "reactivate_tenants",
        "reactivate_and_release",
    ]
    list_display = [
        "short_name",
        "status_badge",
        "worker_status",
        "session_state",
        "heartbeat",
        "message_count",
        "created",
    ]
    list_filter = ["status"]
    search_fields = ["name", "=id"]
    list_select_related = ["worker", "session"]
    readonly_fields = ["id", "status", "created_at", "updated_at", "media_stored"]
    fields = ["id", "name", "status", "media_max_bytes", "media_stored", "created_at", "updated_at"]

    @admin.display(description="media stored")
    def media_stored(self, obj: Tenant) -> str:
        files, size = media_stored(tenant_ids=[obj.pk]).get(str(obj.pk), (0, 0))
        return f"{files} file{'' if files == 1 else 's'}, {format_size(size)}" if files else "none"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        # A correlated subquery is evaluated for the page's rows only, not the whole table.
        per_tenant = (
            MessageLog.objects.filter(tenant=OuterRef("pk"))
            .order_by()
            .values("tenant")
            .annotate(n=Count("*"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(n_messages=Coalesce(Subquery(per_tenant), 0), stop_reason=last_stop_reason())
        )

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting a tenant stops its worker and purges its files: one at a time, from its page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        tenant = self.get_object(request, unquote(object_id))
        if tenant is None:
            # ModelAdmin's own helper (its change and delete views call it); the stubs omit it.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_delete_permission(request, tenant):
            raise PermissionDenied
        if request.method == "POST":
            return self._delete_tenant(request, tenant)
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete this tenant and all its data?",
            "opts": self.opts,
            "object": tenant,
            "footprint": deletion.tenant_footprint(tenant=tenant),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/tenants/tenant/delete_confirmation.html", context)

    def _delete_tenant(self, request: HttpRequest, tenant: Tenant) -> HttpResponse:
        try:
            deletion.tenant_delete(tenant=tenant, by=signed_in_user(request).email)
        except deletion.TenantDeletionRefused as exc:
            self.message_user(request, f"{tenant.name} was not deleted: {exc}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
        # Django's own delete_view passes a list too (log_deletions(request, [obj])); the stubs
        # ask for a QuerySet, and the tenant's row is gone by now.
        self.log_deletions(request, [tenant])  # type: ignore[arg-type]
        self.message_user(request, f"{tenant.name} and all its data were deleted.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tenants_tenant_changelist"))

    def save_model(self, request: HttpRequest, obj: Tenant, form: object, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "updated_at"])
        else:
            created = services.tenant_create(name=obj.name)
            obj.pk, obj.created_at, obj._state = created.pk, created.created_at, created._state

    @admin.display(description="name", ordering="name")
    def short_name(self, obj: Tenant) -> str:
        return truncated(obj.name)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Tenant) -> str:
        return moment(obj.created_at)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Tenant) -> str:
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="worker", ordering="worker__status")
    def worker_status(self, obj: Tenant) -> str:
        worker = getattr(obj, "worker", None)
        if worker is None:
            return "-"
        session = getattr(obj, "session", None)
        words = worker_words(worker.status, session.state if session else None, worker.start_position)
        waits = stop_words(worker.status, getattr(obj, "stop_reason", None))
        return badge(
            worker.status, f"{words}: {waits.lower()}" if waits else words, tone="warn" if waits else ""
        )

    @admin.display(description="session", ordering="session__state")
    def session_state(self, obj: Tenant) -> str:
        session = getattr(obj, "session", None)
        return badge(session.state, session.get_state_display()) if session else "-"

    @admin.display(description="heartbeat", ordering="session__last_seen_at")
    def heartbeat(self, obj: Tenant) -> str:
        session = getattr(obj, "session", None)
        return humanize_age(session.heartbeat_age()) if session else "-"

    @admin.display(description="messages", ordering="n_messages")
    def message_count(self, obj: "WithAnnotations[Tenant, _TenantCounts]") -> int:
        return obj.n_messages


@admin.register(WorkerProcess)
class WorkerProcessAdmin(TenantColumn, WorkerActionsMixin, ReadOnlyAdmin):
    actions = ["start_workers", "stop_workers", "restart_workers"]
    # The program name is the tenant's id (wa-worker-<id>): on the change page, and searchable;
    # the start time is supervisord's uptime.
    list_display = [
        "tenant_name",
        "status_badge",
        "supervisor_state",
        "heartbeat",
        "browser",
        "short_host",
        "short_error",
    ]
    list_display_links = ["tenant_name"]
    list_filter = ["status"]
    search_fields = ["process_name", "tenant__name", "host"]
    list_select_related = ["tenant", "tenant__session"]
    readonly_fields = [
        "tenant",
        "process_name",
        "host",
        "pid",
        "supervisor_state",
        "browser_memory_mb",
        "browser_cpu_percent",
        "status",
        "last_error",
        "started_at",
        "stopped_at",
        "updated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkerProcess]:
        return super().get_queryset(request).annotate(stop_reason=last_stop_reason("tenant_id"))

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: WorkerProcess) -> str:
        words = worker_words(obj.status, obj.tenant.session.state, obj.start_position)
        return badge(obj.status, words, tone="warn" if self._stop_words(obj) else "")

    @admin.display(description="heartbeat", ordering="tenant__session__last_seen_at")
    def heartbeat(self, obj: WorkerProcess) -> str:
        return humanize_age(obj.tenant.session.heartbeat_age())

    @admin.display(description="browser", ordering="browser_memory_mb")
    def browser(self, obj: WorkerProcess) -> str:
        if obj.browser_memory_mb is None or obj.status == WorkerProcess.Status.STOPPED:
            return "-"  # a stopped worker's last sample would read as a browser still running
        cpu = "CPU not sampled yet"
        if obj.browser_cpu_percent is not None:
            cpu = f"{obj.browser_cpu_percent:.0f} % CPU since the last heartbeat"
        return format_html(
            '<span class="cell-text" title="{}">{} MB</span>', cpu, f"{obj.browser_memory_mb:.0f}"
        )

    @admin.display(description="host", ordering="host")
    def short_host(self, obj: WorkerProcess) -> str:
        return truncated(obj.host, 14)

    @admin.display(description="last error or why stopped")
    def short_error(self, obj: WorkerProcess) -> str:
        return truncated(self._stop_words(obj) or obj.last_error)

    @staticmethod
    def _stop_words(obj: WorkerProcess) -> str:
        return stop_words(obj.status, getattr(obj, "stop_reason", None))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        token = _supervisor_programs.set(orchestration.supervisor_programs())
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # while the programs are at hand
            return response
        finally:
            _supervisor_programs.reset(token)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        token = _supervisor_programs.set(orchestration.supervisor_programs())
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _supervisor_programs.reset(token)

    @admin.display(description="supervisord")
    def supervisor_state(self, obj: WorkerProcess) -> str:
        programs, errors = _supervisor_programs.get() or ({}, ["not asked"])
        view = orchestration.worker_view(obj, programs, errors)
        info = view.supervisor
        if info is None:
            text = format_html("{}", "unreachable" if view.supervisor_error else "no program")
        else:
            # Its start is its uptime; the pid, the same as the worker's unless they disagree, on hover.
            up = ""
            if info.uptime_seconds is not None:
                up = f", up {humanize_age(timedelta(seconds=info.uptime_seconds)).removesuffix(' ago')}"
            text = format_html('<span title="pid {}">{}{}</span>', info.pid or "-", info.state, up)
        if view.disagreement:
            return format_html(
                '{}<br><span class="badge badge-bad">{}</span>', text, truncated(view.disagreement)
            )
        return text


@admin.register(WhatsAppSession)
class WhatsAppSessionAdmin(TenantColumn, ReadOnlyAdmin):
    list_display = [
        "tenant_name",
        "state_badge",
        "qr_thumbnail",
        "heartbeat",
        "chat_list_ok",
        "page_event",
        "qr_codes",
        "state_since",
    ]
    list_filter = ["state", "chat_list_ok"]
    search_fields = ["tenant__name"]
    list_select_related = ["tenant"]
    # The raw QR value is a credential: staff see the code as an image, not the string.
    fields = readonly_fields = (
        "tenant",
        "state",
        "state_changed_at",
        "qr_image",
        "qr_issued_at",
        "qr_refresh_count",
        "last_seen_at",
        "chat_list_ok",
        "last_page_event_at",
    )

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: WhatsAppSession) -> str:
        return badge(obj.state, obj.get_state_display())

    @admin.display(description="heartbeat", ordering="last_seen_at")
    def heartbeat(self, obj: WhatsAppSession) -> str:
        age = humanize_age(obj.heartbeat_age())
        return format_html('<span class="cell-text" title="{}">{}</span>', exact_time(obj.last_seen_at), age)

    @admin.display(description="page event", ordering="last_page_event_at")
    def page_event(self, obj: WhatsAppSession) -> str:
        return moment(obj.last_page_event_at)

    @admin.display(description="QR codes", ordering="qr_refresh_count")
    def qr_codes(self, obj: WhatsAppSession) -> int:
        return obj.qr_refresh_count

    @admin.display(description="since", ordering="state_changed_at")
    def state_since(self, obj: WhatsAppSession) -> str:
        return moment(obj.state_changed_at)

    @admin.display(description="QR code")
    def qr_thumbnail(self, obj: WhatsAppSession) -> str:
        # Only while it waits for a scan: any other state's code is no longer on screen.
        return self._qr(obj, 64) if obj.state == WhatsAppSession.State.QR else "-"

    @admin.display(description="QR code")
    def qr_image(self, obj: WhatsAppSession) -> str:
        return self._qr(obj, 240)

    @staticmethod
    def _qr(obj: WhatsAppSession, size: int) -> str:
        if not obj.last_qr_data_uri.startswith("data:image/png;base64,"):
            return "-"
        return format_html(
            '<img class="qr-code" src="{}" alt="QR code" width="{}" height="{}">',
            obj.last_qr_data_uri,
            size,
            size,
        )


@admin.register(MessageLog)
class MessageLogAdmin(TenantColumn, ReadOnlyAdmin):
    list_display = [
        "created",
        "tenant_name",
        "direction",
        "short_from",
        "short_to",
        "short_text",
        "ack_label",
        "short_wa_id",
    ]
    list_filter = ["direction", "is_group", "created_at", ("tenant", admin.RelatedOnlyFieldListFilter)]
    # Prefix and exact matches use the indexes; a free "contains" would scan millions of rows.
    search_fields = ["^from_number", "^to_number", "=wa_message_id"]
    list_select_related = ["tenant"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    readonly_fields = [
        "id",
        "tenant",
        "direction",
        "from_number",
        "to_number",
        "message_text",
        "wa_message_id",
        "created_at",
        "chat_id",
        "sender_id",
        "is_group",
        "message_type",
        "quoted_wa_message_id",
        "wa_timestamp",
        "ack_label",
        "ack_at",
        "group_name",
        "mentions_me",
        "media_shown",
    ]
    # Only these: the raw file fields would link to the storage's own path, which nothing
    # serves (files go out through file_view alone), and the raw ack repeats ack_label.
    fields = tuple(readonly_fields)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: MessageLog) -> str:
        return moment(obj.created_at)

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="tenants_messagelog_file",
            ),
            path(
                "<path:object_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="tenants_messagelog_thumbnail",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        return media_response(self._viewable(request, object_id))

    def thumbnail_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        return media_response(self._viewable(request, object_id), thumbnail=True)

    def _viewable(self, request: HttpRequest, object_id: str) -> MessageLog:
        log = self.get_object(request, unquote(object_id))
        if log is None or not self.has_view_permission(request, log):
            raise Http404("no such message")
        return log

    @admin.display(description="media")
    def media_shown(self, obj: MessageLog) -> str:
        """The same as the tenant sees: a thumbnail, a player, a download link, or why none."""
        if not obj.has_media:
            return "-"
        file_url = reverse("admin:tenants_messagelog_file", args=[obj.pk])
        parts = []
        if obj.media_thumbnail:
            thumb = reverse("admin:tenants_messagelog_thumbnail", args=[obj.pk])
            parts.append(format_html('<img src="{}" alt="Photo" style="max-width:240px">', thumb))
        elif obj.media_is_audio:
            parts.append(format_html('<audio controls preload="none" src="{}"></audio>', file_url))
        if obj.media_file:
            parts.append(
                format_html(
                    '<a href="{}" download>{}</a> ({}, {})',
                    file_url,
                    obj.media_file_name or "download",
                    obj.media_mime_type,
                    obj.media_size_text,
                )
            )
        if obj.media_note:
            parts.append(format_html("<p>{}</p>", obj.media_note))
        return format_html_join("", "<div>{}</div>", ((part,) for part in parts))

    @admin.display(description="ack", ordering="ack")
    def ack_label(self, obj: MessageLog) -> str:
        return ack_label(obj.ack)

    @admin.display(description="from", ordering="from_number")
    def short_from(self, obj: MessageLog) -> str:
        return truncated(obj.from_number, 16)

    @admin.display(description="to", ordering="to_number")
    def short_to(self, obj: MessageLog) -> str:
        return truncated(obj.to_number, 16)

    @admin.display(description="text")
    def short_text(self, obj: MessageLog) -> str:
        return truncated(obj.message_text)

    @admin.display(description="WhatsApp id")
    def short_wa_id(self, obj: MessageLog) -> str:
        return truncated(obj.wa_message_id, 12)


@admin.register(WorkerEvent)
class WorkerEventAdmin(TenantColumn, ReadOnlyAdmin):
    list_display = ["created", "tenant_name", "kind", "old_value", "new_value", "short_reason"]
    list_filter = ["kind", "created_at"]
    search_fields = ["tenant__name", "=tenant__id"]
    list_select_related = ["tenant"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["-created_at", "-id"]

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: WorkerEvent) -> str:
        return moment(obj.created_at)

    @admin.display(description="reason")
    def short_reason(self, obj: WorkerEvent) -> str:
        return truncated(obj.reason)


@admin.register(SetupRequest)
class SetupRequestAdmin(TenantColumn, admin.ModelAdmin):
    list_display = ["created_at", "tenant_name", "user", "status_badge", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["tenant__name", "user__email"]
    list_select_related = ["tenant", "user", "decided_by"]
    readonly_fields = ["tenant", "user", "status", "decided_by", "decided_at", "created_at"]
    fields = ["tenant", "user", "status", "notes", "decided_by", "decided_at", "created_at"]
    actions = ["approve", "reject", "mark_done"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tenants ask for setup from the portal

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: SetupRequest) -> str:
        return badge(obj.status, obj.get_status_display())

    def _decide(self, request: HttpRequest, queryset: QuerySet[SetupRequest], status: str) -> None:
        done, refused = 0, []
        for setup_request in queryset:
            try:
                services.setup_request_decide(
                    setup_request=setup_request, status=status, decided_by=signed_in_user(request)
                )
                done += 1
            except ValidationError as exc:
                refused.append(f"{setup_request.tenant}: {exc.messages[0]}")
        if done:
            self.message_user(request, f"{done} setup request(s) marked {status.lower()}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(description="Approve selected setup requests")
    def approve(self, request: HttpRequest, queryset: QuerySet[SetupRequest]) -> None:
        self._decide(request, queryset, SetupRequest.Status.APPROVED)

    @admin.action(description="Reject selected setup requests")
    def reject(self, request: HttpRequest, queryset: QuerySet[SetupRequest]) -> None:
        self._decide(request, queryset, SetupRequest.Status.REJECTED)

    @admin.action(description="Mark selected setup requests done")
    def mark_done(self, request: HttpRequest, queryset: QuerySet[SetupRequest]) -> None:
        self._decide(request, queryset, SetupRequest.Status.DONE)


class ThrottledAdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    throttle_where = "admin"
    error_messages = {**AdminAuthenticationForm.error_messages, **ThrottledLoginMixin.error_messages}


admin.site.login_form = ThrottledAdminLoginForm
# The lists are wide (a worker's status, supervisord, heartbeat, browser, error): the app
# list beside them took a quarter of a 1,400 px screen. Home and the breadcrumbs lead there.
admin.site.enable_nav_sidebar = False


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "role", "tenant"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreateForm
    form = UserEditForm
    list_display = ["email", "name", "role", "tenant_name", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    list_select_related = ["tenant"]
    ordering = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "role", "tenant", "is_active"]}),
        ("Permissions", {"fields": ["is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "role", "tenant", "usable_password", "password1", "password2"],
            },
        ),
    ]
    readonly_fields = ["last_login", "created_at"]
    filter_horizontal = ["groups", "user_permissions"]

    @admin.display(description="tenant", ordering="tenant__name")
    def tenant_name(self, obj: User) -> str:
        return truncated(obj.tenant.name, LIST_NAME) if obj.tenant else "-"


@admin.register(TenantApiKey)
class TenantApiKeyAdmin(TenantColumn, ReadOnlyAdmin):
    list_display = ["name", "tenant_name", "key_prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["tenant__name", "=prefix", "name"]
    list_select_related = ["tenant"]
    fields = readonly_fields = (
        "name",
        "tenant",
        "key_prefix",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    @admin.display(description="key")
    def key_prefix(self, obj: TenantApiKey) -> str:
        return f"wak_{obj.prefix}_…"

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_staff  # for the revoke action

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TenantApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            revoked += 1
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)
