"""Webhook delivery benchmark, on PostgreSQL: a backlog's throughput, and one event's latency.

    DATABASE_URL=postgres://... python -m tests.bench.webhooks
    (BENCH_WEBHOOK_EVENTS=10000, BENCH_WEBHOOK_CHATS=100,
     BENCH_WEBHOOK_LATENCY_SAMPLES=200, BENCH_WEBHOOK_LATENCY_GAP_SECONDS=0.4)

1. Throughput: a backlog of events queued for one endpoint, delivered by 1 and by 4 real
   ``manage.py deliver_webhooks`` processes to a receiver on 127.0.0.1 that answers 200,
   against a plain loop of signed POSTs of the same bodies to the same receiver (no
   database): the floor for one sender. The events are spread over many chats (order keys):
   a chat's events go one at a time, so one chat would serialize everything.
2. Latency: with nothing waiting, from the commit of an incoming message (the fact) to the
   receiver's answer, one dispatcher at its usual poll; the baseline is one signed POST.

The receiver runs in a process of its own, so its work never shares a GIL with a sender.
"""

import http.client
import logging
import multiprocessing
import os
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.bench.harness import bench_database, report, setup_django, summary
from tests.helpers.processes import wait_until

LATENCY_GOAL_SECONDS = 1.0


def main() -> None:
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("\n== webhook delivery benchmark: skipped, it needs PostgreSQL (set DATABASE_URL)")
        return
    with bench_database():
        run()


# --- The receiver, in its own process ------------------------------------------------------


def receive(port: Any, total: Any, distinct: Any, last_at: Any) -> None:
    """Answer every POST 200 and count it: all of them, distinct webhook-ids, the last one's time."""
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            webhook_id = self.headers["webhook-id"]
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            with lock:
                total.value += 1
                if webhook_id not in seen:
                    seen.add(webhook_id)
                    last_at.value = time.monotonic()  # before the count: whoever sees it, sees this
                    distinct.value += 1

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


class Receiver:
    """Counts in shared memory; time.monotonic() is the same clock in every process here."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._port = context.Value("i", 0, lock=False)
        self._total = context.Value("q", 0, lock=False)
        self._distinct = context.Value("q", 0, lock=False)
        self._last_at = context.Value("d", 0.0, lock=False)
        self.process = context.Process(
            target=receive, args=(self._port, self._total, self._distinct, self._last_at), daemon=True
        )
        self.process.start()
        wait_until(lambda: self._port.value, what="the receiver listening")
        self.port: int = self._port.value

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def total(self) -> int:
        return self._total.value

    @property
    def distinct(self) -> int:
        return self._distinct.value

    @property
    def last_at(self) -> float:
        return self._last_at.value

    def wait_for(self, count: int, timeout: float) -> float:
        """Until ``count`` distinct events arrived; the time the last of them was answered."""
        wait_until(
            lambda: self.distinct >= count,
            timeout=timeout,
            what=f"{count:,} events at the receiver",
            poll=0.001,
        )
        return self.last_at

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


# --- The backlog ---------------------------------------------------------------------------


def make_endpoint(name: str, url: str) -> Any:
    from django.conf import settings

    from tenants.services import tenant_create
    from tenants.webhooks import events
    from tenants.webhooks.services import endpoint_create

    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = True, False
    return endpoint_create(
        tenant=tenant_create(name=name), url=url, event_types=[events.MESSAGE_RECEIVED], enabled=False
    )


def fill(endpoint: Any, count: int, chats: int) -> list[tuple[str, bytes]]:
    """``count`` message.received events, round robin over ``chats``; their ids and bodies.

    In bulk (the outbox writes one event per transaction, which would take minutes), with the
    outbox's own body and the order key it gives a chat.
    """
    from django.db import connection
    from django.utils import timezone

    from tenants.models import WebhookDelivery, WebhookEvent
    from tenants.webhooks import events
    from tenants.webhooks.outbox import body
    from workers.webhooks.transport import body_bytes

    at = timezone.now()
    rows = []
    for n in range(count):
        number = f"1555{n % chats:07d}"
        data = {
            **events.EXAMPLES[events.MESSAGE_RECEIVED],
            "message_id": f"false_{number}@c.us_BENCH{n:08d}",
            "chat_id": f"{number}@c.us",
            "from": number,
            "sender_id": f"{number}@c.us",
            "text": f"message number {n}",
        }
        payload = body(event_type=events.MESSAGE_RECEIVED, data=data, at=at)
        rows.append(WebhookEvent(tenant_id=endpoint.tenant_id, type=events.MESSAGE_RECEIVED, payload=payload))
    WebhookEvent.objects.bulk_create(rows, batch_size=2000)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                tenant_id=endpoint.tenant_id,
                endpoint=endpoint,
                event=event,
                event_type=event.type,
                order_key=f"chat:{event.payload['data']['chat_id']}",
                next_attempt_at=at,
            )
            for event in rows
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_webhookevent, tenants_webhookdelivery")
    return [(event.webhook_id, body_bytes(event.payload)) for event in rows]


def reset(endpoint: Any) -> None:
    """The same backlog again, waiting, and the tables as after the fill (vacuumed)."""
    from django.db import connection
    from django.utils import timezone

    from tenants.models import WebhookAttempt, WebhookDelivery
    from tenants.webhooks.services import endpoint_set_enabled

    endpoint_set_enabled(endpoint=endpoint, enabled=False)
    WebhookAttempt.objects.filter(delivery__endpoint=endpoint).delete()
    WebhookDelivery.objects.filter(endpoint=endpoint).update(
        state=WebhookDelivery.State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_until=None,
        last_status_code=None,
        last_error="",
        delivered_at=None,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tenants_webhookdelivery, tenants_webhookattempt")


# --- Senders -------------------------------------------------------------------------------


def plain_loop(receiver: Receiver, secret: str, bodies: list[tuple[str, bytes]]) -> tuple[float, list[float]]:
    """The baseline: sign and POST each body in turn, a new connection each (as the dispatcher
    does); the whole time, and each POST's."""
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(secret)
    each = []
    started = time.monotonic()
    for webhook_id, body in bodies:
        sent = time.monotonic()
        now = datetime.now(UTC)
        connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
        connection.request(
            "POST",
            "/hooks",
            body=body,
            headers={
                "Content-Type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signer.sign(webhook_id, now, body),
            },
        )
        connection.getresponse().read()
        connection.close()
        each.append(time.monotonic() - sent)
    return receiver.wait_for(len(bodies), timeout=60) - started, each


def dispatchers(count: int, work: Path) -> list[Any]:
    """``count`` dispatchers on the bench database, started and idle (their loop running)."""
    from tests.helpers.dispatchers import Dispatcher
    from tests.helpers.paths import database_url

    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url(), "LOG_DIR": str(work / "logs")}
    started = [Dispatcher(env, work / f"dispatcher-{count}-{n}.out") for n in range(count)]
    wait_until(lambda: all(d.ready() for d in started), timeout=60, what="the dispatchers started")
    return started


def delivered_by(count: int, endpoint: Any, events: int, work: Path) -> tuple[float, int, int, int]:
    """Seconds from the backlog made due to the last event answered; POSTs, distinct ids, recorded."""
    from tenants.models import WebhookDelivery
    from tenants.webhooks.services import endpoint_set_enabled, endpoint_update

    receiver = Receiver()
    endpoint_update(endpoint=endpoint, url=receiver.url)
    running = dispatchers(count, work)
    try:
        endpoint_set_enabled(endpoint=endpoint, enabled=True)  # the whole backlog due, at once
        due_at = time.monotonic()
        last = receiver.wait_for(events, timeout=max(120.0, events / 20))
    finally:
        for dispatcher in running:
            dispatcher.stop()
        receiver.stop()
    recorded = WebhookDelivery.objects.filter(
        endpoint=endpoint, state=WebhookDelivery.State.SUCCEEDED
    ).count()
    return last - due_at, receiver.total, receiver.distinct, recorded


def throughput(work: Path) -> list[float]:
    """Part 1; returns the baseline's single POST times, for part 2."""
    events = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
    chats = int(os.environ.get("BENCH_WEBHOOK_CHATS", "100"))
    endpoint = make_endpoint("Bench Throughput", "http://127.0.0.1:9/hooks")
    bodies = fill(endpoint, events, chats)

    receiver = Receiver()
    base_seconds, each_post = plain_loop(receiver, endpoint.secret, bodies)
    base_twice = receiver.total - receiver.distinct
    receiver.stop()
    base_rate = events / base_seconds
    rows = [
        (
            "plain loop of signed POSTs, no database (baseline)",
            f"{base_rate:8,.0f} events/s ({base_seconds:6.1f} s)",
            f"1.00x; {base_twice} arrived twice",
        )
    ]
    for count in (1, 4):
        if count > 1:
            reset(endpoint)
        seconds, total, distinct, recorded = delivered_by(count, endpoint, events, work)
        rows.append(
            (
                f"{count} dispatcher{'s' if count > 1 else ''} (deliver_webhooks)",
                f"{events / seconds:8,.0f} events/s ({seconds:6.1f} s)",
                f"{events / seconds / base_rate:.2f}x; {total - distinct} arrived twice, "
                f"{distinct:,} distinct ids, {recorded:,} recorded delivered",
            )
        )
    report(
        f"webhook delivery: {events:,} queued events to a receiver on 127.0.0.1 "
        f"({os.cpu_count()} CPUs, PostgreSQL on this machine)",
        rows,
    )
    print(
        f"  the events are spread over {chats} chats (order keys): a chat's events go one at a time, "
        "so a single chat would serialize them all"
    )
    return each_post


def latency(work: Path, each_post: list[float]) -> None:
    """Part 2: commit of an incoming message to the receiver's answer, nothing else waiting."""
    from django.conf import settings
    from django.db import transaction

    from tenants.models import MessageLog
    from tenants.services import message_log_record
    from tenants.webhooks.services import endpoint_set_enabled

    samples = int(os.environ.get("BENCH_WEBHOOK_LATENCY_SAMPLES", "200"))
    gap = float(os.environ.get("BENCH_WEBHOOK_LATENCY_GAP_SECONDS", "0.4"))
    receiver = Receiver()
    endpoint = make_endpoint("Bench Latency", receiver.url)
    endpoint_set_enabled(endpoint=endpoint, enabled=True)
    (dispatcher,) = dispatchers(1, work)
    tenant = endpoint.tenant
    took = []
    try:
        for n in range(samples):
            # Spaced at random, so the commits fall anywhere in the dispatcher's poll.
            time.sleep(random.uniform(0.5, 1.5) * gap)
            number = f"1555{n % 100:07d}"
            with transaction.atomic():
                message_log_record(
                    tenant=tenant,
                    direction=MessageLog.Direction.IN,
                    from_number=number,
                    to_number="",
                    text=f"latency sample {n}",
                    wa_message_id=f"false_{number}@c.us_LATENCY{n:06d}",
                    chat_id=f"{number}@c.us",
                    sender_id=f"{number}@c.us",
                )
            committed = time.monotonic()
            took.append(receiver.wait_for(n + 1, timeout=30) - committed)
    finally:
        dispatcher.stop()
        receiver.stop()
    base_median, base_p95 = summary(each_post)
    median, p95 = summary(took)
    report(
        f"webhook latency: an incoming message's commit to the receiver's answer, nothing waiting "
        f"({samples} samples ~{gap:g} s apart; 1 dispatcher, poll {settings.WEBHOOK_POLL_SECONDS:g} s)",
        [
            (
                "one signed POST, no database (baseline)",
                f"median {base_median * 1000:6.1f} ms, p95 {base_p95 * 1000:6.1f} ms",
                "1.00x",
            ),
            (
                "commit to answer, through deliver_webhooks",
                f"median {median * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms",
                f"{median / base_median:.0f}x median; goal p95 <= {LATENCY_GOAL_SECONDS:g} s: "
                + ("met" if p95 <= LATENCY_GOAL_SECONDS else "NOT met"),
            ),
        ],
    )


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    logging.disable(logging.INFO)  # a line for each tenant, endpoint and message logged
    try:
        each_post = throughput(work)
        latency(work, each_post)
    finally:
        logging.disable(logging.NOTSET)


if __name__ == "__main__":
    main()
