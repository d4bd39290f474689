"""The outage buffer's copy on disk: every record back as it was, bad lines skipped and named."""

import logging
import stat
from datetime import UTC, datetime, timedelta

from workers.runtime.journal import Journal
from workers.runtime.outage import OutageBuffer, OwedEvent, OwedFailure, OwedRequeue, OwedSent
from workers.services import outbound_enqueue
from workers.whatsapp import events

ARRIVED = datetime(2026, 12, 7, 9, 30, 12, 345000, tzinfo=UTC)


def photo(n: int) -> events.IncomingMessage:
    return events.IncomingMessage(
        wa_message_id=f"false_15551234567@c.us_PHOTO{n}",
        chat_id="15551234567@c.us",
        sender_id="15551234567@c.us",
        is_group=False,
        kind="image",
        text=f"for Saturday? {n} 🎂",
        timestamp=ARRIVED.replace(microsecond=0),
        media=events.MediaInfo(mime_type="image/jpeg", file_name="cake.jpg", size=48213),
        seen_at=ARRIVED + timedelta(seconds=n),
    )


def test_every_journaled_record_comes_back_as_it_was_and_a_qr_code_never_reaches_disk(tenant, tmp_path):
    message, _ = outbound_enqueue(tenant=tenant, to_number="15551234567", text="ready")
    records = [
        OwedEvent(photo(1)),
        OwedEvent(events.QrCode("2@secret-login-credential")),
        OwedEvent(events.Ack(wa_message_ids=("true_1@c.us_A", "true_1@c.us_B"), ack=3, at=ARRIVED)),
        OwedEvent(events.GroupMembers("1203@g.us", "Bakery regulars", "add", 2, False)),
        OwedSent(message, events.SentMessage(wa_message_id="true_15551234567@c.us_OUT1", ack=1), ARRIVED),
        OwedFailure(message, "not on WhatsApp", True),
        OwedRequeue(message),
    ]
    path = tmp_path / "sessions" / str(tenant.id) / "owed.jsonl"
    journal = Journal(path, logging.getLogger("test"))
    buffer = OutageBuffer(journal=journal)
    for record in records:
        buffer.add(record)

    assert buffer.sync() == 6  # one batch, the QR code not among it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "secret-login-credential" not in path.read_text()
    loaded = Journal(path, logging.getLogger("test")).load()
    assert loaded == [r for r in records if not isinstance(getattr(r, "event", None), events.QrCode)]
    assert loaded[0].event.seen_at == ARRIVED + timedelta(seconds=1)  # the time it arrived


def test_a_cut_or_damaged_line_is_skipped_and_named_and_the_rest_kept_in_order(tenant, tmp_path, caplog):
    path = tmp_path / "owed.jsonl"
    journal = Journal(path, logging.getLogger("test"))
    for n in (1, 2, 3):
        journal.append(OwedEvent(photo(n)))
    journal.sync()
    lines = path.read_bytes().splitlines(keepends=True)
    unknown = b'{"owed":"event","event":{"$type":"Nope"}}\n'
    damaged = lines[0] + unknown + lines[1] + lines[2][:40]
    path.write_bytes(damaged)

    with caplog.at_level(logging.ERROR, logger="test"):
        loaded = Journal(path, logging.getLogger("test")).load()

    assert [owed.event.wa_message_id for owed in loaded] == [
        "false_15551234567@c.us_PHOTO1",
        "false_15551234567@c.us_PHOTO2",
    ]
    skipped = [r for r in caplog.records if r.getMessage() == "journal line skipped"]
    assert [(r.file, r.offset) for r in skipped] == [
        (str(path), len(lines[0])),
        (str(path), len(lines[0]) + len(unknown) + len(lines[1])),
    ]


def test_the_journal_goes_once_everything_is_written(tenant, tmp_path):
    path = tmp_path / "owed.jsonl"
    buffer = OutageBuffer(journal=Journal(path, logging.getLogger("test")))
    buffer.add(OwedEvent(photo(1)))
    buffer.sync()
    written = []

    buffer.replay(written.append)

    assert len(written) == 1 and not path.exists()


def test_a_starting_worker_writes_the_journal_first_and_a_record_that_fails_does_not_stop_it(
    tenant, fake_client, log_dir, tmp_path, caplog
):
    from tenants.models import MessageLog
    from tests.workers.runtime.conftest import CONFIG
    from workers.runtime.loop import Worker
    from workers.whatsapp.client import BrowserGone

    path = tmp_path / "owed.jsonl"
    left = Journal(path, logging.getLogger("test"))
    for n in (1, 2, 3):
        left.append(OwedEvent(photo(n)))
    left.sync()

    def download(wa_message_id: str) -> bytes:
        if wa_message_id.endswith("PHOTO2"):
            raise BrowserGone("the page went away")
        return b"\\xff\\xd8\\xff\\xe0 not much of a jpeg"

    fake_client.download_media = download
    log = logging.getLogger("test.worker")
    worker = Worker(tenant=tenant, client=fake_client, config=CONFIG, log=log, journal=Journal(path, log))
    handle = worker.handlers.handle
    handled: list[str] = []  # the order the worker wrote them in

    def handle_or_fail(event):
        handled.append(getattr(event, "wa_message_id", "")[-6:])
        if getattr(event, "wa_message_id", "").endswith("PHOTO3"):
            raise RuntimeError("a bug in one record")
        return handle(event)

    worker.handlers.handle = handle_or_fail
    with caplog.at_level(logging.INFO, logger="test.worker"):
        worker._start()

    fake_client.pending.append(photo(4))  # the page's first new message, once the worker runs
    worker.step()

    assert handled == ["PHOTO1", "PHOTO2", "PHOTO3", "PHOTO4"]  # the journal, in order, before the page
    logged = (
        MessageLog.objects.filter(tenant=tenant, wa_message_id__contains="PHOTO")
        .exclude(wa_message_id__endswith="PHOTO4")
        .order_by("created_at")
    )
    assert [m.created_at for m in logged] == [ARRIVED + timedelta(seconds=1), ARRIVED + timedelta(seconds=2)]
    assert logged[1].media_note.startswith("not kept: the browser stopped answering")  # logged all the same
    assert not path.exists()
    (done,) = [r for r in caplog.records if r.getMessage() == "journal written"]
    assert (done.records, done.failed) == (2, 1)
