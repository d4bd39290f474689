"""The scan every end-to-end worker test runs over its logs catches what it must, only that."""

import json

import pytest

from tests.helpers.processes import assert_no_secrets_logged


@pytest.mark.parametrize(
    "leak",
    [
        '{"to": "15551234567"}',
        '{"wa_message_id": "false_15551234567@c.us_3EB0"}',
        '{"qr": "2@AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/="}',
    ],
)
def test_it_finds_a_full_number_or_a_qr_value(tmp_path, leak):
    path = tmp_path / "t.log"
    path.write_text(leak + "\n")
    with pytest.raises(AssertionError, match=r"t\.log:1 logs"):
        assert_no_secrets_logged([path])


def test_it_lets_masked_numbers_ids_and_pids_through(tmp_path):
    path = tmp_path / "t.log"
    path.write_text(
        json.dumps(
            {
                "timestamp": "2026-11-29T14:05:34.604Z",
                "tenant_id": "75987146-1370-4004-b54c-0fad7b22551b",
                "peer": "***4567",
                "wa_message_id": "false_***4567@c.us_3EB00138CDF902AE5D2D92",
                "pid": 1234567890,
                "browser_pids": [20812, 20820],
                "took_ms": 12.5,
            }
        )
        + "\n"
    )
    assert_no_secrets_logged([path])
