"""What the worker does with a group's messages and with a message's file, as a tenant sees it
afterwards: the log row, the reply queued (or not), the timeline, the stored file."""

from pathlib import Path

import pytest

from tenants.models import MessageLog, WorkerEvent
from workers.models import OutboundMessage, ReplyRule
from workers.simulator.media import sample
from workers.whatsapp import events

GROUP = "120363012345678901@g.us"
MEMBER = "15551234567@c.us"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def group_message(msg_id: str, text: str, *, mentions_me: bool = False) -> events.IncomingMessage:
    return events.IncomingMessage(
        wa_message_id=f"false_{GROUP}_{msg_id}_{MEMBER}",
        chat_id=GROUP,
        sender_id=MEMBER,
        is_group=True,
        kind="chat",
        text=text,
        timestamp=None,
        group_name="Bakery regulars",
        mentions_me=mentions_me,
    )


def media_message(msg_id: str, media: events.MediaInfo, *, kind: str = "image", caption: str = ""):
    return events.IncomingMessage(
        wa_message_id=f"false_{MEMBER}_{msg_id}",
        chat_id=MEMBER,
        sender_id=MEMBER,
        is_group=False,
        kind=kind,
        text=caption,
        timestamp=None,
        media=media,
    )


def handle(worker, *found: events.Event) -> None:
    for event in found:
        worker.handlers.handle(event)


def replies(tenant) -> list[tuple[str, str]]:
    return list(OutboundMessage.objects.filter(tenant=tenant).values_list("to_number", "text"))


def test_a_group_message_is_logged_with_its_group_and_writer_and_not_answered_by_default(connected):
    tenant = connected.ctx.tenant
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8")
    handle(connected, group_message("A1", "What are your hours?"))

    log = MessageLog.objects.get(tenant=tenant)
    assert (log.is_group, log.chat_id, log.sender_id, log.from_number, log.group_name) == (
        True,
        GROUP,
        MEMBER,
        "15551234567",
        "Bakery regulars",
    )
    assert replies(tenant) == []


def test_a_rule_that_answers_in_groups_answers_the_group(connected):
    tenant = connected.ctx.tenant
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8", in_groups=True)
    handle(connected, group_message("A1", "What are your hours?"))

    assert replies(tenant) == [(GROUP, "We open at 8")]  # in the group, not to the writer


def test_only_when_mentioned_answers_the_mention_and_not_the_rest(connected):
    tenant = connected.ctx.tenant
    ReplyRule.objects.create(
        tenant=tenant,
        pattern="^hours",
        match_type="REGEX",
        reply_text="8 to 5",
        in_groups=True,
        only_when_mentioned=True,
    )
    handle(
        connected,
        group_message("A1", "hours? anyone"),
        group_message("A2", "@15550001111 hours please", mentions_me=True),
    )

    assert replies(tenant) == [(GROUP, "8 to 5")]
    answered = OutboundMessage.objects.get(tenant=tenant).in_reply_to
    assert answered.mentions_me and answered.wa_message_id.endswith("_A2_" + MEMBER)


def test_a_one_to_one_chat_is_answered_by_a_rule_that_waits_for_mentions_in_groups(connected):
    tenant = connected.ctx.tenant
    ReplyRule.objects.create(
        tenant=tenant, pattern="hours", reply_text="8 to 5", in_groups=True, only_when_mentioned=True
    )
    handle(
        connected,
        events.IncomingMessage(
            wa_message_id="false_15557654321@c.us_B1",
            chat_id="15557654321@c.us",
            sender_id="15557654321@c.us",
            is_group=False,
            kind="chat",
            text="hours?",
            timestamp=None,
        ),
    )
    assert replies(tenant) == [("15557654321", "8 to 5")]


def test_membership_changes_are_on_the_timeline_without_numbers(connected):
    tenant = connected.ctx.tenant
    handle(
        connected,
        events.GroupMembers(GROUP, "Bakery regulars", "add", 1, True),
        events.GroupMembers(GROUP, "Bakery regulars", "add", 3, False),
        events.GroupMembers(GROUP, "", "leaver", 1, False),
    )
    reasons = list(
        WorkerEvent.objects.filter(tenant=tenant, kind="GROUP")
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons == [
        f"This number was added to the group Bakery regulars ({GROUP})",
        f"3 people were added to the group Bakery regulars ({GROUP})",
        f"1 person left the group {GROUP}",
    ]


def test_a_photo_is_downloaded_once_stored_and_logged_with_its_caption(connected, fake_client, media_root):
    tenant = connected.ctx.tenant
    photo = sample("image").data
    message = media_message("P1", events.MediaInfo("image/png", "", len(photo)), caption="like this?")
    fake_client.files[message.wa_message_id] = photo
    handle(connected, message, message)  # shown twice
    connected.handlers.seen = type(connected.handlers.seen)()  # a restarted worker's memory
    handle(connected, message)

    log = MessageLog.objects.get(tenant=tenant)
    assert (log.message_type, log.message_text, log.media_mime_type, log.media_size) == (
        "image",
        "like this?",
        "image/png",
        len(photo),
    )
    assert Path(media_root, log.media_file.name).read_bytes() == photo
    assert fake_client.downloads == [message.wa_message_id]  # never fetched again
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 2  # the file and its thumbnail


def test_a_file_claimed_over_the_cap_is_not_even_downloaded(connected, fake_client, media_root):
    tenant = connected.ctx.tenant
    tenant.media_max_bytes = 5000
    tenant.save()
    message = media_message("V1", events.MediaInfo("video/mp4", "party.mp4", 80_000_000), kind="video")
    handle(connected, message)

    log = MessageLog.objects.get(tenant=tenant)
    assert not log.media_file
    assert log.media_note == "not kept: 76.3 MB is over this account's limit of 4.9 KB"
    assert fake_client.downloads == []
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_a_download_whatsapp_refuses_is_logged_with_the_reason(connected, fake_client):
    message = media_message("D1", events.MediaInfo("application/pdf", "menu.pdf", 2000), kind="document")
    handle(connected, message)

    log = MessageLog.objects.get(tenant=connected.ctx.tenant)
    assert not log.media_file and log.media_file_name == "menu.pdf"
    assert log.media_note.startswith("not kept: WhatsApp could not download it")
