"""Two staff pages in the admin's look: the operations dashboard and a tenant's log file.

Both are plain function views: staff only, validate, call a selector from
``tenants.operations``, render. What is here besides is presentation: colours, wording and
the geometry of the dashboard's bar chart, drawn as inline SVG on the server.
"""

import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from tenants.admin import BADGE_COLOURS
from tenants.formatting import humanize_age
from tenants.logfiles import LEVELS, LineFilter, parse_age, record_time
from tenants.models import Tenant, WhatsAppSession, WorkerProcess
from tenants.operations import (
    ATTENTION_ERROR,
    ATTENTION_NO_SCAN,
    ATTENTION_SESSION,
    ATTENTION_STALE,
    HourCount,
    OperationsOverview,
    TenantOverview,
    operations_overview,
    tenant_log_tail,
    worker_words,
)

logger = logging.getLogger(__name__)

# --- The operations dashboard ----------------------------------------------------------------

_WHY = {
    ATTENTION_ERROR: "error",
    ATTENTION_SESSION: "session",
    ATTENTION_STALE: "stale",
    ATTENTION_NO_SCAN: "no scan",
}


@dataclass(frozen=True)
class Tile:
    row: TenantOverview
    tone: str
    why: str  # why it sorts near the top; "" for a healthy tenant
    tenant_label: str  # "" while ACTIVE, the normal case, to keep the tiles short
    tenant_tone: str
    worker_label: str
    worker_tone: str
    stop_words: str  # why a stopped worker waits for a person; "" for any other
    session_label: str
    session_tone: str
    heartbeat: str
    memory: str
    uptime_day: str
    uptime_week: str
    restarts: str
    change_url: str
    logs_url: str


class _TenantUrls:
    """The change and log URLs of many tenants, resolved once rather than once per tile."""

    _PLACEHOLDER = uuid.UUID(int=0)

    def __init__(self) -> None:
        self._change = reverse("admin:tenants_tenant_change", args=[self._PLACEHOLDER])
        self._logs = reverse("admin-tenant-logs", args=[self._PLACEHOLDER])

    def change(self, tenant_id: uuid.UUID) -> str:
        return self._change.replace(str(self._PLACEHOLDER), str(tenant_id))

    def logs(self, tenant_id: uuid.UUID) -> str:
        return self._logs.replace(str(self._PLACEHOLDER), str(tenant_id))


def _tone(row: TenantOverview) -> str:
    Status, State = WorkerProcess.Status, WhatsAppSession.State
    if row.attention == ATTENTION_ERROR:
        return "bad"
    if row.attention == ATTENTION_SESSION:
        return BADGE_COLOURS.get(row.session_state or "", "warn")
    if row.attention in (ATTENTION_STALE, ATTENTION_NO_SCAN):
        return "warn"
    if row.tenant_status == Tenant.Status.SUSPENDED or row.worker_status in (None, Status.STOPPED):
        return "off"
    if row.worker_status == Status.RUNNING and row.session_state == State.CONNECTED:
        return "ok"
    return "info"  # on its way up or down: starting, QR shown, stopping


def percent(share: float | None) -> str:
    if share is None:
        return "no data"
    # Rounded down: 99.96 % of a day is not "100.0 %", which would read as no outage at all.
    return f"{math.floor(share * 1000) / 10:.1f} %"


def duration(value: timedelta) -> str:
    return humanize_age(value).removesuffix(" ago")


def _restarts(row: TenantOverview, now: datetime) -> str:
    recovery = row.recovery
    if not recovery.failures:
        return "none"
    text = f"{recovery.failures}"
    if recovery.mean_time_to_recover is not None:
        text += f", back in {duration(recovery.mean_time_to_recover)} on average"
    if recovery.down_since is not None:
        text += f"; down for {duration(now - recovery.down_since)} now"
    return text


def _tile(row: TenantOverview, urls: _TenantUrls, now: datetime) -> Tile:
    memory = ""
    # A stopped worker keeps its last sample; shown, it would read as a browser still running.
    if row.browser_memory_mb is not None and row.worker_status != WorkerProcess.Status.STOPPED:
        memory = f"{row.browser_memory_mb:.0f} MB"
    active = row.tenant_status == Tenant.Status.ACTIVE
    return Tile(
        row=row,
        tone=_tone(row),
        why=_WHY.get(row.attention, ""),
        tenant_label="" if active else Tenant.Status(row.tenant_status).label,
        tenant_tone=BADGE_COLOURS.get(row.tenant_status, "off"),
        worker_label=worker_words(row.worker_status, row.session_state),
        worker_tone="warn" if row.stop_words else BADGE_COLOURS.get(row.worker_status or "", "off"),
        stop_words=row.stop_words,
        session_label=WhatsAppSession.State(row.session_state).label if row.session_state else "no session",
        session_tone=BADGE_COLOURS.get(row.session_state or "", "off"),
        heartbeat=humanize_age(row.heartbeat_age),
        memory=memory,
        uptime_day=percent(row.uptime_day),
        uptime_week=percent(row.uptime_week),
        restarts=_restarts(row, now),
        change_url=urls.change(row.tenant_id),
        logs_url=urls.logs(row.tenant_id),
    )


# The chart's frame, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 760, 250
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 748, 36, 206


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    bars_in: list[Bar]
    bars_out: list[Bar]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    hours: list[HourCount]
    total_in: int
    total_out: int
    description: str
    zone: str
    # The frame, for the template's axes and gridlines.
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    right: int = PLOT_RIGHT
    bottom: int = PLOT_BOTTOM

    @property
    def centre_x(self) -> int:
        return (self.left + self.right) // 2

    @property
    def centre_y(self) -> int:
        return (PLOT_TOP + self.bottom) // 2


def nice_step(largest: int, *, ticks: int = 4) -> int:
    """A round gridline step (1, 2 or 5 times a power of ten), about ``ticks`` of them to ``largest``."""
    raw = max(largest / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _hour_label(hour: datetime) -> str:
    return timezone.localtime(hour).strftime("%H:%M")


def message_chart(hours: list[HourCount]) -> Chart:
    largest = max((max(h.incoming, h.outgoing) for h in hours), default=0)
    step = nice_step(largest)
    top = step * max(math.ceil(largest / step), 1)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(hours), 1)
    width = slot * 0.38

    def bar(index: int, count: int, offset: float, what: str, hour: HourCount) -> Bar:
        height = plot_height * count / top
        end = _hour_label(hour.hour + timedelta(hours=1))
        return Bar(
            x=round(PLOT_LEFT + index * slot + offset, 1),
            y=round(PLOT_BOTTOM - height, 1),
            width=round(width, 1),
            height=round(height, 1),
            count=count,
            label=f"{_hour_label(hour.hour)} to {end}: {count} {what}",
        )

    total_in = sum(h.incoming for h in hours)
    total_out = sum(h.outgoing for h in hours)
    zone = timezone.get_current_timezone_name()
    span = f"{_hour_label(hours[0].hour)} to now ({zone})" if hours else ""
    return Chart(
        bars_in=[bar(i, h.incoming, slot * 0.1, "incoming", h) for i, h in enumerate(hours)],
        bars_out=[bar(i, h.outgoing, slot * 0.52, "outgoing", h) for i, h in enumerate(hours)],
        y_ticks=[(round(PLOT_BOTTOM - plot_height * v / top, 1), v) for v in range(0, top + 1, step)],
        x_labels=[
            (round(PLOT_LEFT + (i + 0.5) * slot, 1), _hour_label(h.hour))
            for i, h in enumerate(hours)
            if i % 3 == 0
        ],
        hours=hours,
        total_in=total_in,
        total_out=total_out,
        description=(
            f"Incoming and outgoing messages in each hour from {span}: "
            f"{total_in} incoming and {total_out} outgoing in all."
        ),
        zone=zone,
    )


def _dashboard_context(overview: OperationsOverview) -> dict[str, Any]:
    urls = _TenantUrls()
    tiles = [_tile(row, urls, overview.now) for row in overview.tenants]
    return {
        "title": "Operations dashboard",
        "overview": overview,
        "tiles": tiles,
        "attention": {
            why.replace(" ", "_"): sum(1 for tile in tiles if tile.why == why) for why in _WHY.values()
        },
        "worker_counts": _worker_counts(overview),
        "chart": message_chart(overview.hourly_messages),
        "errors": [(event, urls.logs(event.tenant_id)) for event in overview.recent_errors],
        "stale_seconds": settings.STALE_WORKER_THRESHOLD_SECONDS,
    }


def _worker_counts(overview: OperationsOverview) -> list[tuple[str, str, int]]:
    """Workers by status, with those waiting for a scan apart from the other starting ones."""
    qr = WhatsAppSession.State.QR
    words = [worker_words(row.worker_status, row.session_state) for row in overview.tenants]
    waiting = words.count(qr.label)
    counts = []
    for status, count in overview.workers_by_status.items():
        label, tone = WorkerProcess.Status(status).label, BADGE_COLOURS.get(status, "off")
        if status == WorkerProcess.Status.STARTING:
            counts += [(label, tone, count - waiting), (qr.label, BADGE_COLOURS[qr], waiting)]
        else:
            counts.append((label, tone, count))
    return counts


@staff_member_required
def operations(request: HttpRequest) -> HttpResponse:
    context = _dashboard_context(operations_overview())
    return render(request, "admin/operations.html", {**admin.site.each_context(request), **context})


# --- A tenant's log file ---------------------------------------------------------------------

LINE_CHOICES = [50, 200, 1000]
MAX_SINCE = timedelta(days=366)
_LEVEL_TONES = {"DEBUG": "off", "INFO": "info", "WARNING": "warn", "ERROR": "bad", "CRITICAL": "bad"}
_SHOWN_APART = {"timestamp", "level", "logger", "message", "exc_info", "stack_info"}


class LogFilterForm(forms.Form):
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
    q = forms.CharField(label="Search", required=False, max_length=200, strip=False)
    since = forms.CharField(
        label="Since",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"list": "since-choices", "placeholder": "e.g. 1h", "size": 8}),
    )

    def clean_level(self) -> str:
        level = self.cleaned_data["level"].strip().upper()
        if level and level not in LEVELS:
            raise forms.ValidationError(f"one of {', '.join(LEVELS)}")
        return level

    def clean_since(self) -> timedelta | None:
        value = self.cleaned_data["since"].strip()
        if not value:
            return None
        age = parse_age(value)
        if age is None:
            raise forms.ValidationError("an age like 15m, 1h, 24h or 7d")
        if age > MAX_SINCE:
            raise forms.ValidationError("at most 366d; leave it empty for all lines")
        return age

    def line_filter(self, now: datetime) -> LineFilter:
        data = self.cleaned_data
        since = now - data["since"] if data["since"] else None
        return LineFilter(min_level=LEVELS.get(data["level"], 0), since=since, grep=data["q"])


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
    if not form.is_valid():
        return render(request, "admin/tenant_logs.html", context, status=400)
    try:
        log = tenant_log_tail(
            tenant_id=tenant.id,
            lines=form.cleaned_data["lines"],
            line_filter=form.line_filter(timezone.now()),
        )
    except OSError as exc:
        # Unreadable (permissions, a file rotated away mid-read): say so rather than a bare 500.
        logger.exception("tenant log unreadable", extra={"tenant_id": str(tenant.id)})
        context["read_error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return render(request, "admin/tenant_logs.html", context, status=500)
    context.update(log=log, lines=[log_line(record, tenant.id) for record in log.records])
    return render(request, "admin/tenant_logs.html", context)
