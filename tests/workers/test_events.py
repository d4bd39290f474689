from datetime import datetime

import pytest

from config.logging import mask_message_id
from workers.whatsapp.events import parse_pre_plain_text, sender_of


@pytest.mark.parametrize(
    ("wa_id", "sender"),
    [
        ("false_15551234567@c.us_3EB0ABC", "15551234567"),
        ("true_15551234567@c.us_3EB0ABC", "15551234567"),
        ("false_120363041234@g.us_3EB0ABC_4915550001@c.us", "4915550001"),
        ("garbage", ""),
    ],
)
def test_it_reads_the_sender_from_a_message_id(wa_id, sender):
    assert sender_of(wa_id) == sender


def test_it_reads_the_time_from_the_pre_plain_text():
    assert parse_pre_plain_text("[10:54 PM, 12/9/2025] Ana: ") == datetime(2025, 12, 9, 22, 54)
    assert parse_pre_plain_text("no brackets") is None


def test_it_masks_the_numbers_inside_a_message_id():
    assert mask_message_id("false_15551234567@c.us_3EB0ABC") == "false_***4567@c.us_3EB0ABC"


def test_it_masks_both_numbers_of_a_group_message_id_and_keeps_the_rest():
    masked = mask_message_id("false_120363041234@g.us_3EB012345678_4915550001@c.us")
    assert masked == "false_***1234@g.us_3EB012345678_***0001@c.us"
