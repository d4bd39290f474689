"""The API keys page: a new key is shown once, with a button that copies it."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse

URL = reverse("portal:api_keys")


def test_it_shows_a_new_key_once_with_a_copy_button(owner):
    body = owner.post(URL, {"name": "shop website", "scope": "READ"}).content.decode()
    key = re.search(r'<code class="message-text" id="new-api-key" data-new-api-key>(wak_[^<]+)</code>', body)
    assert key
    assert (
        '<button type="button" class="button button-quiet" data-copy="new-api-key" hidden>Copy</button>'
        in body
    )
    assert '<script src="/static/portal/copy.js" defer></script>' in body
    assert key.group(1) not in owner.get(URL).content.decode()


def test_it_copies_with_a_script_from_a_file_not_an_inline_one(owner):
    body = owner.post(URL, {"name": "shop website", "scope": "READ"}).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "an inline script: the CSP refuses it"
    script = Path(finders.find("portal/copy.js")).read_text(encoding="utf-8")
    assert "navigator.clipboard.writeText" in script


def test_it_offers_no_copy_button_without_a_new_key(owner):
    assert "data-copy=" not in owner.get(URL).content.decode()
