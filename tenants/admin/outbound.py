"""Staff edit reply rules and watch the outbound queue."""

from django.contrib import admin
from django.http import HttpRequest

from tenants.admin.registrations import (
    LIST_NAME,
    LargeTablePaginator,
    ReadOnlyAdmin,
    TenantColumn,
    ack_label,
    badge,
    moment,
    truncated,
)
from workers.models import OutboundMessage, ReplyRule


@admin.register(ReplyRule)
class ReplyRuleAdmin(TenantColumn, admin.ModelAdmin):
    list_display = [
        "tenant_name",
        "short_name",
        "match_type",
        "short_pattern",
        "short_reply",
        "priority",
        "enabled",
    ]
    list_filter = ["enabled", "match_type"]
    list_editable = ["priority", "enabled"]
    search_fields = ["tenant__name", "name", "pattern"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    ordering = ["tenant__name", "priority", "created_at"]

    @admin.display(description="name", ordering="name")
    def short_name(self, obj: ReplyRule) -> str:
        return truncated(obj.name, LIST_NAME)

    @admin.display(description="pattern", ordering="pattern")
    def short_pattern(self, obj: ReplyRule) -> str:
        return truncated(obj.pattern, LIST_NAME)

    @admin.display(description="reply")
    def short_reply(self, obj: ReplyRule) -> str:
        return truncated(obj.reply_text)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(TenantColumn, ReadOnlyAdmin):
    list_display = [
        "created",
        "tenant_name",
        "short_to",
        "status_badge",
        "ack_label",
        "source",
        "attempts",
        "sent",
        "short_error",
    ]
    list_filter = ["status", "source", "created_at"]
    search_fields = ["^to_number", "=idempotency_key", "=wa_message_id"]
    list_select_related = ["tenant"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["-created_at"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: OutboundMessage) -> str:
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="ack", ordering="ack")
    def ack_label(self, obj: OutboundMessage) -> str:
        return ack_label(obj.ack)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: OutboundMessage) -> str:
        return moment(obj.created_at)

    @admin.display(description="to", ordering="to_number")
    def short_to(self, obj: OutboundMessage) -> str:
        return truncated(obj.to_number, 16)

    @admin.display(description="sent", ordering="sent_at")
    def sent(self, obj: OutboundMessage) -> str:
        return moment(obj.sent_at)

    @admin.display(description="last error")
    def short_error(self, obj: OutboundMessage) -> str:
        return truncated(obj.last_error)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_staff
