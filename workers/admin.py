"""Staff edit reply rules and watch the outbound queue."""

from django.contrib import admin
from django.http import HttpRequest

from tenants.admin import LargeTablePaginator, ReadOnlyAdmin, badge
from workers.models import OutboundMessage, ReplyRule


@admin.register(ReplyRule)
class ReplyRuleAdmin(admin.ModelAdmin):
    list_display = ["tenant", "name", "match_type", "pattern", "short_reply", "priority", "enabled"]
    list_filter = ["enabled", "match_type"]
    list_editable = ["priority", "enabled"]
    search_fields = ["tenant__name", "name", "pattern"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    ordering = ["tenant__name", "priority", "created_at"]

    @admin.display(description="reply")
    def short_reply(self, obj: ReplyRule) -> str:
        return obj.reply_text[:80]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tenant",
        "to_number",
        "status_badge",
        "source",
        "attempts",
        "sent_at",
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

    @admin.display(description="last error")
    def short_error(self, obj: OutboundMessage) -> str:
        return obj.last_error[:120]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_staff
