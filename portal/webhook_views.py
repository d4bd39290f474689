"""The portal's Webhooks pages: the tenant's endpoints, their deliveries, and replays.

Each view checks access (``tenant_required``), fetches what the URL names through the
tenant's own selectors (another tenant's id is not found: 404), calls a service, renders.
"""

import json
import logging
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import wording
from portal.access import tenant_required
from portal.forms import ReplaySinceForm, WebhookEndpointForm
from tenants.models import Tenant, WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events, selectors, services

logger = logging.getLogger(__name__)

SECTION = "webhooks"
ENDPOINT_FIELDS = ("url", "description", "event_types")


def _page(
    request: HttpRequest, template: str, *, tenant: Tenant, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    suspended = wording.SUSPENDED_BANNER if tenant.status == Tenant.Status.SUSPENDED else ""
    response = render(
        request,
        f"portal/{template}",
        {"tenant": tenant, "section": SECTION, "suspended_banner": suspended, **context},
        status=status,
    )
    # Endpoint pages hold a signing secret: never kept by a cache.
    response["Cache-Control"] = "no-store"
    return response


def endpoint_or_404(tenant: Tenant, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = selectors.endpoint_of(tenant=tenant, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def delivery_or_404(tenant: Tenant, delivery_id: int) -> WebhookDelivery:
    delivery = selectors.delivery_of(tenant=tenant, delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery


def _show_errors(form: Form, exc: ValidationError) -> None:
    """A service's {field: message} beside its field; anything else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _endpoint_fields(form: WebhookEndpointForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in ENDPOINT_FIELDS}


# --- Deliveries, on the endpoint page and on their own -------------------------------------


def _deliveries_link(request: HttpRequest, path: str, before: str | None = None) -> str:
    params = {key: request.GET[key] for key in ("state", "event") if request.GET.get(key)}
    if before:
        params["before"] = before
    return f"{path}?{urlencode(params)}#deliveries" if params else f"{path}#deliveries"


def _deliveries_context(
    request: HttpRequest, tenant: Tenant, endpoint: WebhookEndpoint | None, path: str
) -> dict[str, Any]:
    """The deliveries list at ``path``: filtered, a page at a time; ``deliveries_error`` for a bad filter."""
    query = request.GET
    context: dict[str, Any] = {
        "state_filter": query.get("state", ""),
        "event_filter": query.get("event", ""),
        "paged": bool(query.get("before")),
        "state_choices": [(state.lower(), words) for state, words in wording.DELIVERY_FILTER_WORDS.items()],
        "event_choices": events.ALL_TYPES,
        "deliveries_path": path,
        "newest_url": _deliveries_link(request, path),
    }
    try:
        page = selectors.delivery_page(
            tenant=tenant,
            before=selectors.parse_before(query.get("before")),
            state=selectors.parse_state(query.get("state")),
            event_type=selectors.parse_event_type(query.get("event")),
            endpoint=endpoint,
        )
    except BadRequest as exc:
        context["deliveries_error"] = str(exc)
        return context
    now = timezone.now()
    context["delivery_rows"] = [
        (delivery, wording.delivery_state_words(delivery, now), wording.delivery_result_words(delivery))
        for delivery in page.deliveries
    ]
    context["older_url"] = _deliveries_link(request, path, page.next_cursor) if page.next_cursor else None
    return context


# --- The list and a new endpoint -----------------------------------------------------------


def _list_page(
    request: HttpRequest,
    tenant: Tenant,
    form: WebhookEndpointForm,
    created: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = [
        (
            endpoint,
            wording.endpoint_state_words(endpoint),
            wording.event_types_words(endpoint.event_types, list(events.EVENT_TYPES)),
        )
        for endpoint in selectors.endpoints_of(tenant=tenant)
    ]
    context = {"form": form, "rows": rows, "created": created}
    return _page(request, "webhooks.html", tenant=tenant, context=context, status=status)


@tenant_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method != "POST":
        return _list_page(
            request, tenant, WebhookEndpointForm(initial={"event_types": list(events.EVENT_TYPES)})
        )
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            created = services.endpoint_create(tenant=tenant, **_endpoint_fields(form))
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, f"Endpoint “{created}” added: events are sent to it from now on.")
            # The page after a POST, not a redirect: the secret is not put in the session to carry it.
            fresh = WebhookEndpointForm(initial={"event_types": list(events.EVENT_TYPES)})
            return _list_page(request, tenant, fresh, created=created)
    return _list_page(request, tenant, form, status=400)


# --- One endpoint --------------------------------------------------------------------------


def _endpoint_page(
    request: HttpRequest,
    tenant: Tenant,
    endpoint: WebhookEndpoint,
    *,
    form: WebhookEndpointForm | None = None,
    replay_form: ReplaySinceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    previous_until = endpoint.previous_secret_expires_at
    path = reverse("portal:webhook", args=[endpoint.id])
    deliveries = _deliveries_context(request, tenant, endpoint, path)
    context = {
        "endpoint": endpoint,
        "endpoint_state": wording.endpoint_state_words(endpoint),
        "form": form
        or WebhookEndpointForm(initial={name: getattr(endpoint, name) for name in ENDPOINT_FIELDS}),
        "replay_form": replay_form or ReplaySinceForm(),
        "replay_url": reverse("portal:webhook_replay_failed", args=[endpoint.id]),
        "previous_secret_until": previous_until if previous_until and previous_until > now else None,
        **deliveries,
    }
    if "deliveries_error" in deliveries and status == 200:
        status = 400
    return _page(request, "webhook_endpoint.html", tenant=tenant, context=context, status=status)


@tenant_required
@require_http_methods(["GET", "POST"])
def webhook_endpoint(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    """The endpoint's page; a POST saves its edit form."""
    endpoint = endpoint_or_404(tenant, endpoint_id)
    if request.method != "POST":
        return _endpoint_page(request, tenant, endpoint)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, **_endpoint_fields(form))
        except ValidationError as exc:
            _show_errors(form, exc)
            endpoint = endpoint_or_404(tenant, endpoint_id)  # as saved, not as tried
        else:
            messages.success(request, f"Endpoint “{endpoint}” saved.")
            return redirect("portal:webhook", endpoint.id)
    return _endpoint_page(request, tenant, endpoint, form=form, status=400)


@tenant_required
@require_POST
def webhook_set_enabled(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_or_404(tenant, endpoint_id)
    # The button says which way: two clicks (or two tabs) can't flip it back by accident.
    wanted = request.POST.get("enabled")
    if wanted not in ("0", "1"):
        return HttpResponse(
            "Say whether to enable the endpoint (enabled=1) or disable it (enabled=0).", status=400
        )
    services.endpoint_set_enabled(endpoint=endpoint, enabled=wanted == "1")
    if endpoint.sending:
        messages.success(request, f"Endpoint “{endpoint}” enabled: events are sent to it again.")
    else:
        messages.success(request, f"Endpoint “{endpoint}” disabled: it gets no new events.")
    if request.POST.get("back") == "list":
        return redirect("portal:webhooks")
    return redirect("portal:webhook", endpoint.id)


@tenant_required
@require_http_methods(["GET", "POST"])
def webhook_rotate(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_or_404(tenant, endpoint_id)
    if request.method != "POST":
        return _page(request, "webhook_rotate.html", tenant=tenant, context={"endpoint": endpoint})
    services.endpoint_rotate_secret(endpoint=endpoint)
    assert endpoint.previous_secret_expires_at is not None  # set by the rotation
    until = timezone.localtime(endpoint.previous_secret_expires_at)
    messages.success(
        request,
        f"New signing secret made. The old one keeps working for 24 h, until {until:%a} {until.day} "
        f"{until:%b}, {until:%H:%M}: put the new one in your receiver before then.",
    )
    return redirect("portal:webhook", endpoint.id)


@tenant_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_or_404(tenant, endpoint_id)
    if request.method != "POST":
        return _page(request, "webhook_delete.html", tenant=tenant, context={"endpoint": endpoint})
    name = str(endpoint)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint “{name}” deleted.")
    return redirect("portal:webhooks")


@tenant_required
@require_POST
def webhook_send_test(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_or_404(tenant, endpoint_id)
    services.endpoint_send_test(endpoint=endpoint)
    if endpoint.sending:
        messages.success(request, "A test event is queued: it shows in the deliveries below.")
    else:
        messages.info(request, "A test event is queued; it is sent once you enable the endpoint.")
    return redirect(f"{reverse('portal:webhook', args=[endpoint.id])}#deliveries")


@tenant_required
@require_POST
def webhook_replay_failed(request: HttpRequest, tenant: Tenant, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_or_404(tenant, endpoint_id)
    form = ReplaySinceForm(request.POST)
    if not form.is_valid():
        return _endpoint_page(request, tenant, endpoint, replay_form=form, status=400)
    count = services.deliveries_replay_failed(
        tenant=tenant, since=form.cleaned_data["since"], endpoint=endpoint
    )
    _say_replayed(request, count)
    return redirect(f"{reverse('portal:webhook', args=[endpoint.id])}#deliveries")


def _say_replayed(request: HttpRequest, count: int) -> None:
    if count == 0:
        messages.info(request, "No failed or dead deliveries since then: nothing was queued again.")
    else:
        plural = "delivery" if count == 1 else "deliveries"
        messages.success(request, f"{count} {plural} queued again: they go out in a few seconds.")


# --- All deliveries, and one ---------------------------------------------------------------


def _deliveries_page(
    request: HttpRequest, tenant: Tenant, replay_form: ReplaySinceForm, status: int = 200
) -> HttpResponse:
    deliveries = _deliveries_context(request, tenant, None, reverse("portal:webhook_deliveries"))
    if "deliveries_error" in deliveries and status == 200:
        status = 400
    context = {
        **deliveries,
        "replay_form": replay_form,
        "replay_url": reverse("portal:webhook_deliveries_replay_failed"),
        "all_endpoints": True,
    }
    return _page(request, "webhook_deliveries.html", tenant=tenant, context=context, status=status)


@tenant_required
@require_GET
def webhook_deliveries(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _deliveries_page(request, tenant, ReplaySinceForm())


@tenant_required
@require_POST
def webhook_deliveries_replay_failed(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = ReplaySinceForm(request.POST)
    if not form.is_valid():
        return _deliveries_page(request, tenant, form, status=400)
    _say_replayed(request, services.deliveries_replay_failed(tenant=tenant, since=form.cleaned_data["since"]))
    return redirect("portal:webhook_deliveries")


@tenant_required
@require_GET
def webhook_delivery(request: HttpRequest, tenant: Tenant, delivery_id: int) -> HttpResponse:
    delivery = delivery_or_404(tenant, delivery_id)
    context = {
        "delivery": delivery,
        "state": wording.delivery_state_words(delivery, timezone.now()),
        "result": wording.delivery_result_words(delivery),
        "attempts": list(delivery.attempt_log.all()),
        "body": json.dumps(delivery.event.payload, indent=2, ensure_ascii=False),
    }
    return _page(request, "webhook_delivery.html", tenant=tenant, context=context)


@tenant_required
@require_POST
def webhook_delivery_replay(request: HttpRequest, tenant: Tenant, delivery_id: int) -> HttpResponse:
    delivery = delivery_or_404(tenant, delivery_id)
    services.delivery_replay(delivery=delivery)
    messages.success(request, "Queued again, with the same webhook-id: it goes out in a few seconds.")
    return redirect("portal:webhook_delivery", delivery.pk)
