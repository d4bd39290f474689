"""``/metrics`` in Prometheus text format, collected from the database at scrape time.

Everything comes from the database in a fixed number of queries, so any process of a
multi-process web server answers the same, and nothing is lost when one restarts. Counters
are rows of ``Counter`` (they only grow); gauges are read from the current state.
"""

import hmac
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from config import health
from config.addresses import address_in, client_address
from tenants.models import Counter, Tenant, WhatsAppSession, WorkerProcess, time_since
from tenants.selectors import media_stored
from tenants.webhooks.selectors import undelivered_backlog
from workers.models import OutboundMessage

logger = logging.getLogger(__name__)

COUNTER_HELP = {
    "whatsapp_messages_total": "Messages logged, by direction and tenant.",
    "whatsapp_outbound_failed_total": "Outbound messages given up as FAILED, by tenant.",
    "whatsapp_outbound_unconfirmed_total": "Sent messages WhatsApp did not confirm within "
    "OUTBOUND_ACK_TIMEOUT_SECONDS, by tenant.",
    "whatsapp_qr_codes_total": "Login QR codes shown, by tenant.",
    "whatsapp_stale_marked_total": "Workers marked ERROR by the stale check.",
    "whatsapp_alerts_sent_total": "Alerts delivered to staff, by kind.",
    "whatsapp_portal_api_unauthorized_total": "Portal API calls refused for a missing or wrong key.",
    "whatsapp_login_failures_total": "Failed sign-ins, by where (portal or admin).",
    "whatsapp_login_lockouts_total": "Sign-ins refused while locked out, by where.",
    "whatsapp_reply_rule_timeouts_total": "Reply rules skipped for searching a message too long, by tenant.",
    "whatsapp_worker_memory_recoveries_total": "Page reloads and browser restarts for memory "
    "(WORKER_MAX_PAGE_HEAP_MB, WORKER_MAX_MEMORY_MB), by tenant and action.",
    "whatsapp_webhook_deliveries_total": "Webhook attempts by tenant and outcome: succeeded, failed "
    "(will retry) or dead (the last attempt failed).",
}


COUNTER_LABELS = {
    "whatsapp_messages_total": ["direction", "tenant_id"],
    "whatsapp_outbound_failed_total": ["tenant_id"],
    "whatsapp_outbound_unconfirmed_total": ["tenant_id"],
    "whatsapp_qr_codes_total": ["tenant_id"],
    "whatsapp_stale_marked_total": [],
    "whatsapp_alerts_sent_total": ["kind"],
    "whatsapp_portal_api_unauthorized_total": [],
    "whatsapp_login_failures_total": ["where"],
    "whatsapp_login_lockouts_total": ["where"],
    "whatsapp_reply_rule_timeouts_total": ["tenant_id"],
    "whatsapp_webhook_deliveries_total": ["tenant_id", "outcome"],
    "whatsapp_worker_memory_recoveries_total": ["tenant_id", "action"],
}


def _parse_series(name: str) -> tuple[str, dict[str, str]]:
    metric, _, rest = name.partition("{")
    labels = {}
    for pair in rest.rstrip("}").split(",") if rest else []:
        key, _, value = pair.partition("=")
        labels[key] = value.strip('"')
    return metric, labels


def _by_status(family: GaugeMetricFamily, values: list[str], counts: dict[str, int]) -> GaugeMetricFamily:
    for value in values:
        family.add_metric([value], counts.get(value, 0))
    return family


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        # Readiness as /readyz sees it (the database answered, or this scrape would have failed).
        ready = health.check_migrations() is None and health.check_log_dir() is None
        yield GaugeMetricFamily("whatsapp_ready", "1 when /readyz would say ready.", value=int(ready))
        yield from self._states()
        yield from self._per_worker()
        yield from self._queue()
        yield from self._webhooks()
        yield from self._media()
        yield from self._counters()

    def _states(self) -> Iterator[Metric]:
        def counts(model: type[Tenant | WorkerProcess | WhatsAppSession], field: str) -> dict[str, int]:
            return dict(model.objects.values_list(field).annotate(n=Count("pk")).order_by())

        yield _by_status(
            GaugeMetricFamily("whatsapp_tenants", "Tenants by status.", labels=["status"]),
            Tenant.Status.values,
            counts(Tenant, "status"),
        )
        yield _by_status(
            GaugeMetricFamily("whatsapp_workers", "Workers by status.", labels=["status"]),
            WorkerProcess.Status.values,
            counts(WorkerProcess, "status"),
        )
        yield _by_status(
            GaugeMetricFamily("whatsapp_sessions", "WhatsApp sessions by state.", labels=["state"]),
            WhatsAppSession.State.values,
            counts(WhatsAppSession, "state"),
        )

    def _per_worker(self) -> Iterator[Metric]:
        now = timezone.now()
        labels = ["tenant_id", "tenant"]
        age = GaugeMetricFamily(
            "whatsapp_worker_heartbeat_age_seconds",
            "Seconds since the worker's last heartbeat (absent: never).",
            labels=labels,
        )
        up = GaugeMetricFamily(
            "whatsapp_worker_status", "1 for the worker's current status.", labels=[*labels, "status"]
        )
        memory = GaugeMetricFamily(
            "whatsapp_worker_browser_memory_bytes",
            "PSS of the worker's Chromium tree at its last heartbeat.",
            labels=labels,
        )
        cpu = GaugeMetricFamily(
            "whatsapp_worker_browser_cpu_ratio",
            "CPU used by the worker's Chromium tree between its last two heartbeats (1 = one core).",
            labels=labels,
        )
        rows = WorkerProcess.objects.values_list(
            "tenant_id",
            "tenant__name",
            "status",
            "tenant__session__last_seen_at",
            "browser_memory_mb",
            "browser_cpu_percent",
        )
        for tenant_id, name, status, last_seen, memory_mb, cpu_percent in rows:
            label_values = [str(tenant_id), name]
            up.add_metric([*label_values, status], 1)
            heartbeat_age = time_since(last_seen, now)
            if heartbeat_age is not None:
                age.add_metric(label_values, heartbeat_age.total_seconds())
            if memory_mb is not None:
                memory.add_metric(label_values, memory_mb * 1024 * 1024)
            if cpu_percent is not None:
                cpu.add_metric(label_values, cpu_percent / 100)
        yield from (age, up, memory, cpu)

    def _queue(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "whatsapp_outbound_queue_depth",
            "Messages waiting to be sent (QUEUED or SENDING), by tenant.",
            labels=["tenant_id"],
        )
        unconfirmed = GaugeMetricFamily(
            "whatsapp_outbound_unconfirmed",
            "Messages handed to WhatsApp that it has not confirmed (status UNCONFIRMED), by tenant.",
            labels=["tenant_id"],
        )
        Status = OutboundMessage.Status
        doubtful = Q(status=Status.UNCONFIRMED)
        counts = (
            OutboundMessage.objects.filter(status__in=[Status.QUEUED, Status.SENDING, Status.UNCONFIRMED])
            .values_list("tenant_id")
            .annotate(waiting=Count("id", filter=~doubtful), unconfirmed=Count("id", filter=doubtful))
            .order_by()
        )
        for tenant_id, waiting, not_confirmed in counts:
            if waiting:
                depth.add_metric([str(tenant_id)], waiting)
            if not_confirmed:
                unconfirmed.add_metric([str(tenant_id)], not_confirmed)
        yield from (depth, unconfirmed)

    def _webhooks(self) -> Iterator[Metric]:
        oldest = GaugeMetricFamily(
            "whatsapp_webhook_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered (waiting or retrying), by endpoint; "
            "absent when nothing waits. Paused endpoints count: their events still queue.",
            labels=["tenant_id", "endpoint_id"],
        )
        for row in undelivered_backlog():
            oldest.add_metric([row.tenant_id, row.endpoint_id], row.oldest_seconds)
        yield oldest

    def _media(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "whatsapp_media_stored_bytes",
            "Bytes of messages' files kept in storage (photos, documents, voice notes), by tenant.",
            labels=["tenant_id"],
        )
        files = GaugeMetricFamily(
            "whatsapp_media_stored_files", "Messages' files kept in storage, by tenant.", labels=["tenant_id"]
        )
        for tenant_id, (count, total) in media_stored().items():
            size.add_metric([tenant_id], total)
            files.add_metric([tenant_id], count)
        yield from (size, files)

    def _counters(self) -> Iterator[Metric]:
        families = {
            metric: CounterMetricFamily(
                metric.removesuffix("_total"), help_text, labels=COUNTER_LABELS[metric]
            )
            for metric, help_text in COUNTER_HELP.items()
        }
        for name, value in Counter.objects.values_list("name", "value"):
            metric, labels = _parse_series(name)
            if metric in families:
                families[metric].add_metric([labels.get(key, "") for key in COUNTER_LABELS[metric]], value)
        for metric, family in families.items():
            if not COUNTER_LABELS[metric] and not family.samples:
                family.add_metric([], 0)  # nothing counted yet is a count of 0
            yield family


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(sent.encode(), token.encode())
    return address_in(client_address(request), settings.METRICS_ALLOWED_IPS)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        logger.warning("metrics scrape refused", extra={"remote_addr": client_address(request)})
        return HttpResponse(
            "metrics: not allowed (token or address)\n", status=403, content_type="text/plain"
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
