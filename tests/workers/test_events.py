import pytest

from config.logging import mask_message_id, mask_number
from workers.whatsapp.events import chat_id_for, phone_of


@pytest.mark.parametrize(
    ("wa_id", "phone"),
    [
        ("15551234567@c.us", "15551234567"),
        ("15551234567:12@c.us", "15551234567"),
        ("123456789012345@lid", ""),
        ("120363041234@g.us", ""),
        ("status@broadcast", ""),
        ("", ""),
    ],
)
def test_only_a_persons_id_names_a_phone_number(wa_id, phone):
    assert phone_of(wa_id) == phone


def test_a_bare_number_is_sent_to_as_a_person_and_other_ids_as_given():
    assert chat_id_for("15551234567") == "15551234567@c.us"
    assert chat_id_for("123456789012345@lid") == "123456789012345@lid"
    assert chat_id_for("120363041234@g.us") == "120363041234@g.us"


def test_it_masks_the_numbers_inside_a_message_id():
    assert mask_message_id("false_15551234567@c.us_3EB0ABC") == "false_***4567@c.us_3EB0ABC"


def test_it_masks_both_numbers_of_a_group_message_id_and_keeps_the_rest():
    masked = mask_message_id("false_120363041234@g.us_3EB012345678_4915550001@c.us")
    assert masked == "false_***1234@g.us_3EB012345678_***0001@c.us"


def test_a_lid_is_masked_like_a_phone_number():
    assert mask_message_id("false_123456789012345@lid_3EB0ABC") == "false_***2345@lid_3EB0ABC"
    assert mask_number("123456789012345@lid") == "***2345"
