"""The README's echo bot, run exactly as the README prints it, against a running platform: the
API on a live server, a real worker driving headless Chromium on the simulator, and a real
``deliver_webhooks``. What a tenant would notice: the customer gets the echo, once, even when
the platform delivers the event again, and the bot turns away what its secret did not sign."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from tenants.api_keys import api_key_create
from tenants.models import Tenant, TenantApiKey, WebhookAttempt, WebhookDelivery
from tenants.webhooks import events
from tenants.webhooks.services import delivery_replay, endpoint_create, new_secret
from tests.helpers.browser import plain_http_live_server
from tests.helpers.dispatchers import Dispatcher
from tests.helpers.gunicorn import free_port
from tests.helpers.paths import PROJECT_DIR
from tests.helpers.processes import wait_until
from tests.helpers.workers import connect
from workers.models import OutboundMessage
from workers.webhooks.transport import body_bytes, signed_headers

CUSTOMER = "15551234567"
BLOCK = re.compile(r"<!-- echo-bot:start -->\n```python\n(.*?)```\n<!-- echo-bot:end -->", re.DOTALL)


def readme_bot() -> str:
    found = BLOCK.findall((PROJECT_DIR / "README.md").read_text(encoding="utf-8"))
    assert len(found) == 1, "README.md must hold one ```python block between the echo-bot comments"
    return found[0]


@dataclass
class Bot:
    process: subprocess.Popen
    port: int
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def start_bot(tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    """The README's bot as a script of its own, started with the variables the README names."""
    script = tmp_path / "echo_bot.py"
    script.write_text(readme_bot(), encoding="utf-8")
    started: list[Bot] = []

    def start(*, secret: str, api_key: str, platform_url: str, port: int | None = None) -> Bot:
        port = port or free_port()
        output = tmp_path / f"bot-{len(started)}.out"
        env = {"PATH": os.environ.get("PATH", ""), "WEBHOOK_SECRET": secret, "API_KEY": api_key}
        process = subprocess.Popen(
            [sys.executable, str(script)],
            env={**env, "PLATFORM_URL": platform_url, "PORT": str(port)},
            stdout=output.open("w"),
            stderr=subprocess.STDOUT,
        )
        started.append(Bot(process, port, output))
        wait_until(
            lambda: listening(port) or process.poll() is not None, timeout=15, what="the bot listening"
        )
        assert process.poll() is None, output.read_text()
        return started[-1]

    yield start
    for bot in started:
        bot.stop()


def post(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(bot.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_it_refuses_an_event_another_secret_signed(start_bot):
    secret = new_secret()
    bot = start_bot(secret=secret, api_key="wak_unused", platform_url="http://127.0.0.1:9")
    body = body_bytes({"type": events.TEST, "timestamp": timezone.now().isoformat(), "data": {}})

    def signed_with(key: str) -> dict[str, str]:
        return signed_headers(webhook_id="msg_forged", body=body, secrets=[key], now=timezone.now())

    assert post(bot, body, signed_with(new_secret())) == 401
    assert post(bot, body, {}) == 401
    assert post(bot, body, signed_with(secret)) == 200  # the same event, signed as the platform signs


@pytest.mark.slow
@pytest.mark.browser
def test_it_echoes_a_message_once_even_when_the_event_comes_again(
    tenant: Tenant, simulator, start_worker, worker_env, start_bot, settings, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    _, api_key = api_key_create(
        tenant=tenant, name="echo bot", scope=TenantApiKey.Scope.SEND, created_by=None
    )
    port = free_port()
    endpoint = endpoint_create(
        tenant=tenant, url=f"http://127.0.0.1:{port}/", event_types=[events.MESSAGE_RECEIVED]
    )
    start_worker(tenant.id, simulator)
    dispatcher = Dispatcher({**worker_env, "WEBHOOK_POLL_SECONDS": "0.05"}, tmp_path / "dispatcher.out")
    try:
        with plain_http_live_server() as platform:
            bot = start_bot(secret=endpoint.secret, api_key=api_key, platform_url=platform.url, port=port)
            session_id = connect(tenant, simulator)
            simulator.incoming(session_id, CUSTOMER, "Do you have sourdough today?")

            wait_until(lambda: simulator.sent(session_id), timeout=60, what="the echo in the simulator")
            delivery = WebhookDelivery.objects.get(endpoint=endpoint)
            attempts = WebhookAttempt.objects.filter(delivery=delivery)
            # The bot answers 2xx only to an event its secret signed.
            wait_until(lambda: attempts.filter(status_code=200).count() == 1, what="the bot's 200")

            # At least once: the same event again, to the bot, then to the bot restarted (it
            # forgot what it handled; the Idempotency-Key remembers).
            delivery_replay(delivery=delivery)
            wait_until(lambda: attempts.filter(status_code=200).count() == 2, what="the second 200")
            bot.stop()
            start_bot(secret=endpoint.secret, api_key=api_key, platform_url=platform.url, port=port)
            delivery_replay(delivery=delivery)
            wait_until(lambda: attempts.filter(status_code=200).count() == 3, what="the third 200")
    finally:
        dispatcher.stop()

    assert [(m["chat"], m["text"]) for m in simulator.sent(session_id)] == [
        (CUSTOMER, "echo: Do you have sourdough today?")
    ]
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == WebhookDelivery.State.SUCCEEDED
