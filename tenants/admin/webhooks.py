"""Staff manage tenants' webhook endpoints and see, per tenant, every delivery and its attempts.

Every write goes through ``tenants.webhooks.services``: the URL rule, the events, the
rotation and the replay are the portal's own. The signing secret is never shown here: a
staff member who needs a new one rotates it, and the tenant reads it on its portal page.
"""

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from tenants.admin.registrations import (
    LIST_NAME,
    LargeTablePaginator,
    TenantColumn,
    badge,
    exact_time,
    moment,
    truncated,
)
from tenants.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events, services

# The delivery list has many columns: its free texts are cut shorter than other lists'.
LIST_SHORT = 16


def _deliveries_url(**filters: object) -> str:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return f"{reverse('admin:tenants_webhookdelivery_changelist')}?{query}"


class WebhookEndpointForm(forms.ModelForm):
    """The portal's fields; the URL is checked by the same rule as there, when saved."""

    url = forms.CharField(label="URL", max_length=2000, widget=forms.TextInput(attrs={"size": 80}))
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(name, f"{name}: {words}") for name, words in events.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tenant", "url", "description", "event_types", "enabled"]

    def clean_url(self) -> str:
        try:
            return services.clean_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantColumn, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "tenant_name",
        "short_url",
        "state_badge",
        "events_summary",
        "waiting",
        "failing",
        "deliveries_link",
    ]
    list_filter = [
        "enabled",
        ("paused_at", admin.EmptyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["tenant__name", "url", "description"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    ordering = ["tenant__name", "created_at"]
    actions = ["enable", "disable", "rotate_secret", "send_test_event"]
    readonly_fields = (
        "state_badge",
        "paused_at",
        "paused_reason",
        "failing_since",
        "previous_secret_expires_at",
        "deliveries_link",
        "created_at",
        "updated_at",
    )
    editable_fields = ("tenant", "url", "description", "event_types", "enabled")

    def get_readonly_fields(
        self, request: HttpRequest, obj: WebhookEndpoint | None = None
    ) -> tuple[str, ...]:
        # An endpoint stays with the tenant it was made for.
        return (*self.readonly_fields, "tenant") if obj else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> tuple[str, ...]:
        return self.editable_fields if obj is None else (*self.editable_fields, *self.readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        # Counted for the page's rows only, from the index of waiting deliveries.
        waiting = (
            WebhookDelivery.objects.filter(endpoint=OuterRef("pk"), state__in=services.WAITING)
            .order_by()
            .values("endpoint")
            .annotate(n=Count("*"))
            .values("n")
        )
        return super().get_queryset(request).annotate(waiting_count=Coalesce(Subquery(waiting), 0))

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        fields = {name: form.cleaned_data[name] for name in ["url", "description", "event_types", "enabled"]}
        if change:
            services.endpoint_update(endpoint=obj, **fields)
            return
        created = services.endpoint_create(tenant=form.cleaned_data["tenant"], **fields)
        obj.pk, obj.secret, obj.created_at, obj.updated_at = (
            created.pk,
            created.secret,
            created.created_at,
            created.updated_at,
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    @admin.display(description="URL", ordering="url")
    def short_url(self, obj: WebhookEndpoint) -> str:
        return truncated(obj.url, LIST_NAME)

    @admin.display(description="state")
    def state_badge(self, obj: WebhookEndpoint) -> str:
        if not obj.enabled:
            return badge("", "Disabled by the tenant", tone="off")
        if obj.paused_at is not None:
            return format_html(
                '<span title="{}">{}</span>', obj.paused_reason, badge("", "Paused after failing", tone="bad")
            )
        return badge("", "Enabled", tone="ok")

    @admin.display(description="events")
    def events_summary(self, obj: WebhookEndpoint) -> str:
        if set(events.EVENT_TYPES) <= set(obj.event_types):
            return "all"
        return format_html(
            '<span class="cell-text" title="{}">{} of {}</span>',
            ", ".join(obj.event_types),
            len(obj.event_types),
            len(events.EVENT_TYPES),
        )

    @admin.display(description="waiting", ordering="waiting_count")
    def waiting(self, obj: WebhookEndpoint) -> int:
        return getattr(obj, "waiting_count", 0)

    @admin.display(description="failing since", ordering="failing_since")
    def failing(self, obj: WebhookEndpoint) -> str:
        return moment(obj.failing_since)

    @admin.display(description="deliveries")
    def deliveries_link(self, obj: WebhookEndpoint) -> str:
        return format_html('<a href="{}">deliveries</a>', _deliveries_url(endpoint__id__exact=obj.pk))

    @admin.action(description="Enable the selected endpoints (a paused one sends what waited)")
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_set_enabled(endpoint=endpoint, enabled=True)
        self.message_user(request, f"{len(queryset)} endpoint(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable the selected endpoints (no new events for them)")
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_set_enabled(endpoint=endpoint, enabled=False)
        self.message_user(request, f"{len(queryset)} endpoint(s) disabled.", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret (the old one signs for 24 hours more)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint=endpoint)
        self.message_user(
            request,
            f"{len(queryset)} secret(s) rotated; the tenant reads the new one on its Webhooks page.",
            messages.SUCCESS,
        )

    @admin.action(description="Send a test event")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_send_test(endpoint=endpoint)
        self.message_user(request, f"A test event queued for {len(queryset)} endpoint(s).", messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    classes = ["webhook-attempts"]
    fields = readonly_fields = ("started", "status_code", "latency_ms", "response_excerpt", "error")
    ordering = ["started_at", "id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="at")
    def started(self, obj: WebhookAttempt) -> str:
        return exact_time(obj.started_at)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantColumn, admin.ModelAdmin):
    list_display = [
        "created",
        "tenant_name",
        "event_type",
        "endpoint_url",
        "state_badge",
        "tries",
        "result",
        "next_attempt",
    ]
    list_filter = [
        "state",
        "event_type",
        "created_at",
        ("tenant", admin.RelatedOnlyFieldListFilter),
        ("endpoint", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["tenant__name"]
    search_help_text = "A tenant's name, or a webhook-id (msg_…) from a receiver's log."
    list_select_related = ["tenant", "endpoint"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["-id"]
    actions = ["replay"]
    inlines = [WebhookAttemptInline]
    fields = readonly_fields = (
        "webhook_id",
        "tenant",
        "endpoint",
        "event_type",
        "state_badge",
        "attempts",
        "next_attempt",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "body",
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery], search_term: str
    ) -> tuple[QuerySet[WebhookDelivery], bool]:
        """A receiver's ``webhook-id`` (msg_…) finds its delivery; anything else, a tenant's name."""
        try:
            event_id = uuid.UUID(search_term.strip().removeprefix("msg_"))
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(event_id=event_id), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The list's Replay action needs it; one delivery's page is for reading only.
        return obj is None and request.user.is_active and request.user.is_staff

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # never dropped: replayed, or purged by retention

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: WebhookDelivery) -> str:
        return moment(obj.created_at)

    @admin.display(description="endpoint", ordering="endpoint__url")
    def endpoint_url(self, obj: WebhookDelivery) -> str:
        """Its host (the whole URL on hover): the path is on the delivery's page."""
        host = urlsplit(obj.endpoint.url).netloc or obj.endpoint.url
        short = host if len(host) <= LIST_SHORT else f"{host[: LIST_SHORT - 1]}…"
        return format_html('<span class="cell-text" title="{}">{}</span>', obj.endpoint.url, short)

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: WebhookDelivery) -> str:
        return badge(obj.state, obj.get_state_display())

    @admin.display(description="tries", ordering="attempts")
    def tries(self, obj: WebhookDelivery) -> int:
        return obj.attempts

    @admin.display(description="answer")
    def result(self, obj: WebhookDelivery) -> str:
        if obj.last_status_code is not None:
            return f"HTTP {obj.last_status_code}"
        return truncated(obj.last_error, LIST_SHORT)

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj: WebhookDelivery) -> str:
        return moment(obj.next_attempt_at) if obj.state in services.WAITING else "-"

    @admin.display(description="body as sent")
    def body(self, obj: WebhookDelivery) -> str:
        return format_html(
            '<pre class="webhook-body">{}</pre>', json.dumps(obj.event.payload, indent=2, ensure_ascii=False)
        )

    @admin.action(description="Replay the selected deliveries (same webhook-id, a new round of attempts)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = services.deliveries_replay(
            deliveries=WebhookDelivery.objects.filter(pk__in=queryset.values("pk"))
        )
        self.message_user(
            request,
            f"{count} delivery(ies) queued again at {timezone.localtime():%H:%M:%S}.",
            messages.SUCCESS,
        )
