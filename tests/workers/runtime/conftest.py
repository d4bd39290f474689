"""The worker's collaborators in this process, around a fake WhatsApp client (no browser)."""

import logging
from datetime import timedelta

import pytest

from tenants import services as tenant_services
from tenants.models import WhatsAppSession
from workers.ratelimit import RateLimitPolicy
from workers.runtime.context import WorkerConfig
from workers.runtime.loop import Worker
from workers.whatsapp import events
from workers.whatsapp.client import CallFailed, InvalidNumber


class FakeClient:
    """Plays wa-js's part: events queued by the test, sends answered with made-up ids."""

    def __init__(self) -> None:
        self.pending: list[events.Event] = []
        self.sent: list[tuple[str, str]] = []
        self.invalid: set[str] = set()
        self.main_ready = True
        self.lids: dict[str, str] = {}
        self.link_codes: list[str] = []
        self.took_over = 0
        self.started = 0
        self.send_handed_over = False
        self.read: list[str] = []
        # Media messages' files by WhatsApp id, as WhatsApp Web would download them.
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []

    def start(self) -> None:
        self.started += 1

    def stop(self, *, graceful: bool = True) -> None:
        pass

    def poll(self, timeout: float) -> list[events.Event]:
        found, self.pending = self.pending, []
        return found

    def page_health(self) -> dict:
        return {"mainReady": self.main_ready, "lastEventAt": None}

    def browser_root_pids(self) -> list[int]:
        return []

    def page_heap_mb(self) -> float | None:
        return None

    def reload_page(self) -> None:
        raise AssertionError("the fake page has no heap to outgrow")

    def send_text(self, recipient: str, text: str) -> events.SentMessage:
        self.send_handed_over = False
        if recipient in self.invalid:
            raise InvalidNumber("this number is not on WhatsApp")
        self.send_handed_over = True
        self.sent.append((recipient, text))
        return events.SentMessage(
            wa_message_id=f"true_{events.chat_id_for(recipient)}_OUT{len(self.sent)}", ack=0
        )

    def take_over(self) -> None:
        self.took_over += 1

    def resolve_phone(self, wa_id: str) -> str:
        return self.lids.get(wa_id, "")

    def mark_read(self, chat_id: str) -> None:
        self.read.append(chat_id)

    def send_file(self, recipient: str, file: events.OutgoingFile) -> events.SentMessage:
        self.sent.append((recipient, f"[{file.kind} {file.file_name}] {file.caption}"))
        return events.SentMessage(
            wa_message_id=f"true_{events.chat_id_for(recipient)}_F{len(self.sent)}", ack=0
        )

    def download_media(self, wa_message_id: str) -> bytes:
        self.downloads.append(wa_message_id)
        if wa_message_id not in self.files:
            raise CallFailed("download: media not found (404)")
        return self.files[wa_message_id]

    def request_link_code(self, phone: str) -> str:
        self.link_codes.append(phone)
        return "ABCD1234"


CONFIG = WorkerConfig(
    heartbeat_seconds=60,
    qr_max_refreshes=3,
    conflict_takeover_seconds=0,
    browser_restarts=2,
    max_send_attempts=3,
    rate_limit=RateLimitPolicy(per_minute=600, burst=10, min_gap_seconds=0, jitter_seconds=0, daily_cap=100),
    ack_timeout_seconds=60,
)


@pytest.fixture
def fake_client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def worker(tenant, fake_client, log_dir) -> Worker:
    worker = Worker(tenant=tenant, client=fake_client, config=CONFIG, log=logging.getLogger("test.worker"))
    worker._start()
    return worker


@pytest.fixture
def connected(worker, fake_client) -> Worker:
    fake_client.pending.append(events.Ready())
    worker.step()
    assert WhatsAppSession.objects.get(tenant=worker.ctx.tenant).state == "CONNECTED"
    return worker


def ago(seconds: float):
    from django.utils import timezone

    return timezone.now() - timedelta(seconds=seconds)


__all__ = ["CONFIG", "FakeClient", "ago", "tenant_services"]
