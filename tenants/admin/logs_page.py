"""A tenant's log file in the admin's look: its last lines, filtered, newest at the bottom."""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tenants.logs.query import LEVELS, MAX_GREP, BadLogQuery, LogQuery, parse_log_query
from tenants.logs.reader import record_time, tenant_log_tail
from tenants.models import Tenant

logger = logging.getLogger(__name__)

LINE_CHOICES = [50, 200, 1000]
_LEVEL_TONES = {"DEBUG": "off", "INFO": "info", "WARNING": "warn", "ERROR": "bad", "CRITICAL": "bad"}
_SHOWN_APART = {"timestamp", "level", "logger", "message", "exc_info", "stack_info"}


class LogFilterForm(forms.Form):
    """The page's filters; their values are checked by the one log query parser."""

    lines = forms.TypedChoiceField(
        label="Lines",
        choices=[(n, str(n)) for n in LINE_CHOICES],
        coerce=int,
        error_messages={"invalid_choice": "choose 50, 200 or 1000; got %(value)s"},
    )
    level = forms.CharField(
        label="Minimum level",
        required=False,
        max_length=10,
        widget=forms.Select(choices=[("", "any"), *((name, name) for name in LEVELS)]),
    )
    q = forms.CharField(label="Search", required=False, max_length=MAX_GREP, strip=False)
    since = forms.CharField(
        label="Since",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"list": "since-choices", "placeholder": "e.g. 1h", "size": 8}),
    )

    def query(self, now: datetime) -> LogQuery | None:
        """The parsed query, or None with the bad field's error added to the form."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return parse_log_query(
                now=now, lines=data["lines"], level=data["level"], since=data["since"], grep=data["q"]
            )
        except BadLogQuery as exc:
            self.add_error(exc.field, exc.problem)
            return None


@dataclass(frozen=True)
class LogLine:
    time: str
    level: str
    tone: str
    logger: str
    message: str
    fields: list[tuple[str, str]]
    traceback: str


def _field_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _log_time(record: dict) -> str:
    moment = record_time(record)
    if moment is None or moment.tzinfo is None:
        return str(record.get("timestamp", ""))  # shown as written rather than guessed at
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3]


def log_line(record: dict, tenant_id: uuid.UUID) -> LogLine:
    """One record as the page shows it; its ``tenant_id``, the page's own, goes without saying."""
    hidden = _SHOWN_APART | ({"tenant_id"} if record.get("tenant_id") == str(tenant_id) else set())
    level = str(record.get("level", "")).upper()
    return LogLine(
        time=_log_time(record),
        level=level,
        tone=_LEVEL_TONES.get(level, "off"),
        logger=str(record.get("logger", "")),
        message=_field_text(record.get("message", "")),
        fields=[(key, _field_text(value)) for key, value in record.items() if key not in hidden],
        traceback="\n".join(
            _field_text(record[key]) for key in ("exc_info", "stack_info") if record.get(key)
        ),
    )


@staff_member_required
def tenant_logs(request: HttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = get_object_or_404(Tenant.objects.only("id", "name"), pk=tenant_id)
    data = request.GET.copy()
    data.setdefault("lines", str(LINE_CHOICES[1]))
    form = LogFilterForm(data)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": f"Log of {tenant.name}",
        "tenant": tenant,
        "opts": Tenant._meta,
        "form": form,
        "since_choices": ["15m", "1h", "6h", "24h", "7d"],
    }
    query = form.query(timezone.now())
    if query is None:
        return render(request, "admin/tenant_logs.html", context, status=400)
    try:
        log = tenant_log_tail(tenant_id=tenant.id, query=query)
    except OSError as exc:
        # Unreadable (permissions, a file rotated away mid-read): say so rather than a bare 500.
        logger.exception("tenant log unreadable", extra={"tenant_id": str(tenant.id)})
        context["read_error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return render(request, "admin/tenant_logs.html", context, status=500)
    context.update(log=log, lines=[log_line(record, tenant.id) for record in log.records])
    return render(request, "admin/tenant_logs.html", context)
