"""Real dispatcher processes: a receiver that is down, a dispatcher killed mid-delivery, a
database outage, two dispatchers over one backlog. Nothing is lost, nothing sent twice
under a new id, and on PostgreSQL no attempt is made twice."""

import json
import os
import signal
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from tenants.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tests.helpers.dispatchers import Dispatcher
from tests.helpers.faults import TcpProxy
from tests.helpers.paths import database_url
from tests.helpers.processes import wait_until
from tests.helpers.receiver import Reply

pytestmark = pytest.mark.slow

State = WebhookDelivery.State


@pytest.fixture
def start_dispatcher(transactional_db, tmp_path: Path) -> Iterator[Callable[..., Dispatcher]]:
    started: list[Dispatcher] = []

    def start(**env: str) -> Dispatcher:
        base = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "LOG_DIR": str(tmp_path / "logs"),
            "WEBHOOK_POLL_SECONDS": "0.05",
        }
        started.append(Dispatcher({**base, **env}, tmp_path / f"dispatcher-{len(started)}.out"))
        return started[-1]

    yield start
    for dispatcher in started:
        dispatcher.stop(timeout=20)


def emit(endpoint, count: int, chats: int = 10) -> list[WebhookEvent]:
    return [
        webhook_emit(
            tenant_id=endpoint.tenant_id,
            event_type=events.MESSAGE_RECEIVED,
            data={"text": f"message {n}"},
            order_key=f"chat:{n % chats}@c.us",
        )
        for n in range(count)
    ]


def all_delivered(count: int) -> bool:
    return WebhookDelivery.objects.filter(state=State.SUCCEEDED).count() == count


def log_messages(dispatcher: Dispatcher) -> list[str]:
    lines = dispatcher.output.read_text().splitlines()
    return [json.loads(line)["message"] for line in lines if line.startswith("{")]


def assert_each_event_arrived_under_its_own_id(receiver, sent: list[WebhookEvent]) -> None:
    bodies_by_id = defaultdict(set)
    for got in receiver.received:
        bodies_by_id[got.webhook_id].add(got.body)
    assert set(bodies_by_id) == {event.webhook_id for event in sent}
    assert all(len(bodies) == 1 for bodies in bodies_by_id.values())  # a resend is the same body


def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_back(endpoint, receiver, start_dispatcher):
    """Ten minutes of outage at 1/30 scale: 20 s, with the schedule compressed to match."""
    receiver.stop()
    start_dispatcher(WEBHOOK_RETRY_SCHEDULE_SECONDS="0.2,0.5,1,2,4,4,4,4,4,4,4,4")
    sent = emit(endpoint, 40)
    wait_until(
        lambda: WebhookAttempt.objects.filter(error__contains="could not connect").count() >= 20,
        timeout=30,
        what="attempts against the receiver while it is down",
    )
    receiver.start()
    wait_until(lambda: all_delivered(40), timeout=60, what="every event delivered after the receiver is back")
    assert_each_event_arrived_under_its_own_id(receiver, sent)
    # Each chat's events arrived in the order they happened.
    texts = [got.json["data"]["text"] for got in receiver.received]
    for chat in range(10):
        mine = [t for t in texts if int(t.split()[1]) % 10 == chat]
        assert mine == sorted(mine, key=lambda t: int(t.split()[1]))


def test_a_dispatcher_killed_mid_delivery_leaves_it_to_be_sent_again_with_the_same_id(
    endpoint, receiver, start_dispatcher
):
    receiver.replies = [Reply(delay=60)]  # the first POST hangs: the dispatcher is killed in it
    fast = {"WEBHOOK_BATCH_SIZE": "1", "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "1", "WEBHOOK_TIMEOUT_SECONDS": "3"}
    [event] = emit(endpoint, 1)
    first = start_dispatcher(**fast)
    wait_until(lambda: len(receiver.received) == 1, timeout=30, what="the first POST")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    start_dispatcher(**fast)
    wait_until(lambda: all_delivered(1), timeout=30, what="the delivery sent again by another dispatcher")
    assert [got.webhook_id for got in receiver.received] == [event.webhook_id, event.webhook_id]
    assert receiver.received[0].body == receiver.received[1].body


def test_a_dispatcher_stopped_with_sigterm_finishes_and_exits_cleanly(endpoint, receiver, start_dispatcher):
    dispatcher = start_dispatcher()
    emit(endpoint, 3)
    wait_until(lambda: all_delivered(3), timeout=30, what="three deliveries")
    assert dispatcher.stop(timeout=20) == 0
    assert log_messages(dispatcher)[-1] == "webhook dispatcher stopped"


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


@pytest.mark.postgres
def test_a_database_outage_is_waited_out_and_said_once_each_way(
    endpoint, receiver, start_dispatcher, database_proxy
):
    url = database_url().replace(f":{database_proxy.target[1]}/", f":{database_proxy.port}/")
    process = start_dispatcher(DATABASE_URL=url)
    emit(endpoint, 5)
    wait_until(lambda: all_delivered(5), timeout=30, what="deliveries before the outage")
    database_proxy.cut()
    emit(endpoint, 5)  # written by the platform meanwhile (this process reaches the database)
    wait_until(
        lambda: "database unreachable, webhook delivery paused" in log_messages(process),
        timeout=30,
        what="the dispatcher noticing the outage",
    )
    database_proxy.restore()
    wait_until(lambda: all_delivered(10), timeout=60, what="deliveries after the outage")
    assert process.process.poll() is None
    messages = log_messages(process)
    assert messages.count("database unreachable, webhook delivery paused") == 1
    assert messages.count("database back, webhook delivery resumed") == 1
    assert len(set(receiver.ids())) == 10


@pytest.mark.postgres
def test_two_dispatchers_over_a_thousand_events_make_each_attempt_once(endpoint, receiver, start_dispatcher):
    sent = emit(endpoint, 1000, chats=200)
    start_dispatcher()
    start_dispatcher()
    wait_until(lambda: all_delivered(1000), timeout=180, what="1,000 deliveries by two dispatchers")
    assert WebhookAttempt.objects.count() == 1000
    ids = receiver.ids()
    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert set(ids) == {event.webhook_id for event in sent}


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the SQLite rule")
def test_a_second_dispatcher_on_sqlite_refuses_to_start_and_says_why(endpoint, receiver, start_dispatcher):
    first = start_dispatcher()
    emit(endpoint, 1)
    wait_until(lambda: all_delivered(1), timeout=30, what="the first dispatcher working")
    second = start_dispatcher()
    assert second.process.wait(timeout=30) == 1
    assert "Another deliver_webhooks already runs on this SQLite database" in second.output.read_text()
    assert first.process.poll() is None
