"""Sending a file by URL: fetched once, under the webhooks' address rules, or refused with why.

The file server is a real HTTP server on loopback. Loopback is what production refuses, so
the tests that fetch allow private addresses (as development does), and the test of the
rule itself turns it back on.
"""

import http.server
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tenants.formatting import format_size
from tenants.models import Tenant
from tests.helpers.api import bearer
from workers.models import OutboundMessage
from workers.simulator.media import sample

BASE = "/api/portal/tenant/current"
PHOTO = sample("image").data


ENDLESS = 256 * 1024 * 1024  # far more than any socket buffer holds: only a reader takes it all


class Files(http.server.BaseHTTPRequestHandler):
    hits: Counter = Counter()
    port = 0
    endless_written = 0

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        own = f"http://127.0.0.1:{self.port}"
        routes = {
            "/cake.png": (200, {"Content-Length": str(len(PHOTO))}, PHOTO),
            "/latest": (302, {"Location": "/cake.png"}, b""),
            "/with-password": (302, {"Location": f"http://baker:secret@127.0.0.1:{self.port}/cake.png"}, b""),
            "/loop": (302, {"Location": f"{own}/loop"}, b""),
        }
        if self.path == "/drip.bin":  # a byte every 0.2 s: each read returns, the whole never ends in time
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return
        if self.path == "/endless.bin":  # no length said: read until the cap, then given up
            self.send_response(200)
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                while Files.endless_written < ENDLESS:
                    self.wfile.write(chunk)
                    Files.endless_written += len(chunk)
            except OSError:
                pass  # the platform hung up: it stopped reading at the limit
            return
        code, headers, body = routes.get(self.path, (404, {"Content-Length": "0"}, b""))
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def file_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    Files.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{Files.port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def rules(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the file server is on loopback
    settings.WEBHOOK_REQUIRE_HTTPS = False
    Files.hits.clear()
    Files.endless_written = 0


def send(client, key: str, **body):
    return client.post(
        BASE + "/messages", {"to": "+1 555 123 4567", **body}, content_type="application/json", **bearer(key)
    )


def kept_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_photo_by_url_is_fetched_once_and_queued_with_its_caption(client, send_key, file_server, settings):
    response = send(client, send_key, file_url=f"{file_server}/cake.png", text="For Saturday 🎂")

    assert response.status_code == 201, response.content
    message = OutboundMessage.objects.get()
    assert (message.text, message.media_kind, message.media_mime_type) == (
        "For Saturday 🎂",
        "image",
        "image/png",
    )
    assert message.media_file_name == "cake.png"
    assert Path(settings.MEDIA_ROOT, message.media_file.name).read_bytes() == PHOTO
    assert Files.hits["/cake.png"] == 1


def test_a_redirect_is_followed_to_the_file(client, send_key, file_server, settings):
    response = send(client, send_key, file_url=f"{file_server}/latest")

    assert response.status_code == 201, response.content
    assert Path(settings.MEDIA_ROOT, OutboundMessage.objects.get().media_file.name).read_bytes() == PHOTO


def test_in_production_a_private_address_is_refused_before_any_request(
    client, send_key, file_server, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False

    response = send(client, send_key, file_url=f"{file_server}/cake.png")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "127.0.0.1 resolves to 127.0.0.1, a private, loopback or link-local address: "
        "files are fetched from public addresses only."
    )
    assert not Files.hits
    assert not OutboundMessage.objects.exists() and not kept_files(settings)


def test_in_production_a_metadata_address_is_refused(client, send_key, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS, settings.WEBHOOK_REQUIRE_HTTPS = False, True

    plain = send(client, send_key, file_url="http://169.254.169.254/latest/meta-data/")
    tls = send(client, send_key, file_url="https://169.254.169.254/latest/meta-data/")

    assert plain.json()["detail"] == "The URL must use https://, so that the file travels encrypted."
    assert "169.254.169.254, a cloud metadata address" in tls.json()["detail"]
    assert (plain.status_code, tls.status_code) == (400, 400)


def test_a_metadata_address_is_refused_even_where_private_addresses_are_allowed(client, send_key):
    response = send(client, send_key, file_url="http://169.254.169.254/latest/meta-data/")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "169.254.169.254 resolves to 169.254.169.254, a cloud metadata address: never allowed."
    )


@pytest.mark.parametrize(
    ("path", "detail", "hits"),
    [
        # The redirect with a password is refused before it is followed.
        (
            "/with-password",
            "Put no user name or password in the URL: give a link that needs none.",
            {"/with-password": 1},
        ),
        ("/loop", "The URL redirected more than 3 times; give the file's own URL.", {"/loop": 4}),
        ("/gone.pdf", "127.0.0.1 answered 404 Not Found for the file.", {"/gone.pdf": 1}),
    ],
)
def test_every_hop_is_checked_and_a_failure_says_why(
    client, send_key, file_server, settings, path, detail, hits
):
    response = send(client, send_key, file_url=file_server + path)

    assert (response.status_code, response.json()["detail"]) == (400, detail)
    assert Files.hits == hits  # every request the file server saw: 1 + 3 redirects for the loop
    assert not OutboundMessage.objects.exists() and not kept_files(settings)


def test_a_file_over_the_tenants_limit_is_not_read_past_it(client, send_key, file_server, tenant, settings):
    Tenant.objects.filter(pk=tenant.pk).update(media_max_bytes=1024 * 1024)

    within = send(client, send_key, file_url=f"{file_server}/cake.png")
    Tenant.objects.filter(pk=tenant.pk).update(media_max_bytes=100)
    declared = send(client, send_key, file_url=f"{file_server}/cake.png")
    endless = send(client, send_key, file_url=f"{file_server}/endless.bin")

    assert (within.status_code, declared.status_code, endless.status_code) == (201, 400, 400)
    assert declared.json()["detail"] == f"The file is {format_size(len(PHOTO))}; the limit is 100 bytes."
    assert endless.json()["detail"] == "The file is over 100 bytes, the limit."
    assert Files.endless_written < ENDLESS // 8  # it hung up: only what the sockets buffered went out
    assert OutboundMessage.objects.count() == 1  # only the one within the first limit
    assert len(kept_files(settings)) == 2  # its photo and thumbnail: nothing of the refused two


def test_a_server_sending_a_byte_at_a_time_is_given_up_at_the_deadline(
    client, send_key, file_server, settings
):
    settings.MEDIA_FETCH_TIMEOUT_SECONDS = 1.0

    response = send(client, send_key, file_url=f"{file_server}/drip.bin")

    assert (response.status_code, response.json()["detail"]) == (
        400,
        "127.0.0.1 did not send the file within 1 s.",
    )
    assert not OutboundMessage.objects.exists() and not kept_files(settings)


def test_a_file_and_a_url_at_once_is_refused(client, send_key, file_server):
    response = client.post(
        BASE + "/messages",
        {
            "to": "+15551234567",
            "file": SimpleUploadedFile("cake.png", PHOTO),
            "file_url": f"{file_server}/cake.png",
        },
        **bearer(send_key),
    )

    assert response.status_code == 400
    assert response.json()["file_url"] == ["send either file or file_url, not both"]
    assert not Files.hits and not OutboundMessage.objects.exists()
