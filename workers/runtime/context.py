"""What the worker's collaborators share: the tenant's rows, the client, the settings."""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from tenants.models import Tenant, WhatsAppSession, WorkerProcess
from workers.ratelimit import RateLimitPolicy
from workers.whatsapp import events

EXIT_OK = 0  # stopped on request, or waiting for a person (no restart wanted)
EXIT_FAILED = 1  # the supervisor should restart it


class StopWorker(Exception):
    def __init__(self, reason: str, exit_code: int) -> None:
        super().__init__(reason)
        self.reason, self.exit_code = reason, exit_code


class PageClient(Protocol):
    """What the worker asks of the WhatsApp client (workers.whatsapp.client.WhatsAppClient)."""

    send_handed_over: bool

    def start(self) -> None: ...
    def stop(self, *, graceful: bool = True) -> None: ...
    def poll(self, timeout: float) -> list[events.Event]: ...
    def page_health(self) -> dict: ...
    def browser_root_pids(self) -> list[int]: ...
    def page_heap_mb(self) -> float | None: ...
    def reload_page(self) -> None: ...
    def send_text(self, recipient: str, text: str) -> events.SentMessage: ...
    def send_file(self, recipient: str, file: events.OutgoingFile) -> events.SentMessage: ...
    def take_over(self) -> None: ...
    def resolve_phone(self, wa_id: str) -> str: ...
    def mark_read(self, chat_id: str) -> None: ...
    def download_media(self, wa_message_id: str) -> bytes: ...
    def request_link_code(self, phone: str) -> str: ...


@dataclass(frozen=True)
class WorkerConfig:
    heartbeat_seconds: float
    qr_max_refreshes: int
    conflict_takeover_seconds: float
    browser_restarts: int
    max_send_attempts: int
    rate_limit: RateLimitPolicy
    max_memory_mb: int = 0  # 0: no limit
    max_page_heap_mb: int = 0  # 0: no limit
    ack_timeout_seconds: float = 60.0

    @classmethod
    def from_settings(cls) -> "WorkerConfig":
        return cls(
            heartbeat_seconds=settings.HEARTBEAT_INTERVAL_SECONDS,
            qr_max_refreshes=settings.QR_MAX_REFRESHES,
            conflict_takeover_seconds=settings.CONFLICT_TAKEOVER_SECONDS,
            browser_restarts=settings.WORKER_BROWSER_RESTARTS,
            max_send_attempts=settings.OUTBOUND_MAX_ATTEMPTS,
            max_memory_mb=settings.WORKER_MAX_MEMORY_MB,
            max_page_heap_mb=settings.WORKER_MAX_PAGE_HEAP_MB,
            ack_timeout_seconds=settings.OUTBOUND_ACK_TIMEOUT_SECONDS,
            rate_limit=RateLimitPolicy(
                per_minute=settings.OUTBOUND_PER_MINUTE,
                burst=settings.OUTBOUND_BURST,
                min_gap_seconds=settings.OUTBOUND_MIN_GAP_SECONDS,
                jitter_seconds=settings.OUTBOUND_JITTER_SECONDS,
                daily_cap=settings.OUTBOUND_DAILY_CAP,
            ),
        )


@dataclass
class Context:
    tenant: Tenant
    worker: WorkerProcess
    session: WhatsAppSession
    client: PageClient
    config: WorkerConfig
    log: logging.Logger | logging.LoggerAdapter
    # Shared timers and counters (time.monotonic() seconds).
    next_heartbeat: float = 0.0
    takeover_at: float | None = None
    browser_losses: int = 0
