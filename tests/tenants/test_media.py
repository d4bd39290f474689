"""A message's file: kept as its content says, shown only to its tenant and staff, never run.

The files are real (the simulator's samples: a PNG, a PDF, a WAV) and go through the real
storage under a temporary MEDIA_ROOT; the pages and the API are asked as a browser and a
tenant's program would.
"""

from pathlib import Path

import pytest

from tenants import services
from tenants.api_keys import api_key_create
from tenants.media import media_store
from tenants.models import MessageLog, Tenant
from tenants.services import message_log_record
from tests.helpers.api import bearer
from tests.helpers.clients import signed_in
from workers.simulator.media import sample

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def other_user(other_tenant: Tenant):
    return services.user_create_tenant_user(
        tenant=other_tenant, email="owner@florist.test", password="another pass phrase"
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def received(tenant: Tenant, data: bytes, *, claimed: str, name: str = "", kind: str = "image") -> MessageLog:
    media = media_store(tenant=tenant, data=data, claimed_type=claimed, file_name=name)
    log, _ = message_log_record(
        tenant=tenant,
        direction=MessageLog.Direction.IN,
        from_number="15551234567",
        to_number="",
        text="for Saturday?",
        wa_message_id=f"false_15551234567@c.us_{len(data)}{name}",
        message_type=kind,
        **media.log_fields(),
    )
    return log


def test_a_photo_is_kept_with_a_thumbnail_and_its_type_from_the_content(tenant, media_root):
    photo = sample("image").data  # a PNG
    log = received(tenant, photo, claimed="image/jpeg")  # the sender's phone says JPEG

    assert (log.media_mime_type, log.media_size, log.media_note) == ("image/png", len(photo), "")
    assert log.media_file_name == "file.png"  # no name given: one from the content's type
    assert Path(media_root, log.media_file.name).read_bytes() == photo
    assert log.media_thumbnail.name.endswith("_thumb.jpg")
    assert str(tenant.id) in log.media_file.name  # each tenant's files under its own folder


def test_the_tenant_sees_its_files_and_nobody_else_does(tenant, tenant_user, other_user, client):
    photo, pdf, voice = sample("image"), sample("document"), sample("ptt")
    image_log = received(tenant, photo.data, claimed=photo.mimetype)
    pdf_log = received(tenant, pdf.data, claimed=pdf.mimetype, name=pdf.filename, kind="document")
    voice_log = received(tenant, voice.data, claimed=voice.mimetype, kind="ptt")
    owner = signed_in(tenant_user)

    page = owner.get("/portal/messages/").content.decode()
    assert f'src="/portal/messages/{image_log.id}/thumbnail"' in page
    assert f'controls preload="none" src="/portal/messages/{voice_log.id}/file"' in page
    assert f'href="/portal/messages/{pdf_log.id}/file" download>price-list.pdf</a>' in page

    thumbnail = owner.get(f"/portal/messages/{image_log.id}/thumbnail")
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/jpeg")
    assert thumbnail["Content-Disposition"].startswith("inline")
    assert b"".join(thumbnail.streaming_content)[:3] == b"\xff\xd8\xff"  # a JPEG we made
    for log, body, mime in [(pdf_log, pdf.data, "application/pdf"), (voice_log, voice.data, "audio/x-wav")]:
        response = owner.get(f"/portal/messages/{log.id}/file")
        assert response.status_code == 200
        assert response["Content-Type"] == mime
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == body

    stranger = signed_in(other_user)
    for path in (f"/portal/messages/{pdf_log.id}/file", f"/portal/messages/{image_log.id}/thumbnail"):
        assert stranger.get(path).status_code == 404
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/portal/login/")


def test_staff_see_a_file_in_the_admin_and_a_tenant_user_does_not(tenant, tenant_user, staff_user):
    pdf = sample("document")
    log = received(tenant, pdf.data, claimed=pdf.mimetype, name=pdf.filename, kind="document")
    staff = signed_in(staff_user)

    page = staff.get(f"/admin/tenants/messagelog/{log.id}/change/").content.decode()
    assert f"/admin/tenants/messagelog/{log.id}/file/" in page
    assert log.media_file.name not in page  # no link to the storage's own (unserved) path
    response = staff.get(f"/admin/tenants/messagelog/{log.id}/file/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == pdf.data
    assert signed_in(tenant_user).get(f"/admin/tenants/messagelog/{log.id}/file/").status_code == 302


def test_the_api_gives_the_file_to_the_tenants_own_key_only(tenant, tenant_user, other_tenant, client):
    pdf = sample("document")
    log = received(tenant, pdf.data, claimed=pdf.mimetype, name=pdf.filename, kind="document")
    own = api_key_create(tenant=tenant, name="shop", scope="READ", created_by=tenant_user)[1]
    others = api_key_create(tenant=other_tenant, name="theirs", scope="SEND", created_by=None)[1]
    url = f"/api/portal/tenant/current/logs/{log.id}/media"

    listed = client.get("/api/portal/tenant/current/logs", **bearer(own)).json()["results"][0]
    assert listed["media"] == {
        "url": url,
        "mime_type": "application/pdf",
        "size": len(pdf.data),
        "file_name": "price-list.pdf",
        "note": "",
    }
    response = client.get(url, **bearer(own))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == pdf.data
    assert client.get(url, **bearer(others)).status_code == 404
    assert client.get(url).status_code == 401


def test_a_file_over_the_tenants_cap_is_logged_with_the_reason_and_not_kept(tenant, media_root):
    tenant.media_max_bytes = 100
    tenant.save()
    log = received(tenant, sample("document").data, claimed="application/pdf", name="menu.pdf")

    assert not log.media_file and not log.media_thumbnail
    assert log.media_note.startswith("not kept: ") and "limit of 100 bytes" in log.media_note
    assert stored_files(media_root) == []


def test_content_that_contradicts_its_claimed_type_is_typed_by_its_content(tenant, tenant_user):
    pdf = sample("document").data
    log = received(tenant, pdf, claimed="image/png", name="cake.png")

    assert log.media_mime_type == "application/pdf"
    assert log.media_note == "sent as image/png, but the content is application/pdf"
    assert not log.media_thumbnail  # never read as an image
    assert log.media_file_name == "cake.png.pdf"
    response = signed_in(tenant_user).get(f"/portal/messages/{log.id}/file")
    assert response["Content-Type"] == "application/pdf"


def test_a_file_name_with_directories_is_only_a_name(tenant, media_root):
    log = received(tenant, sample("document").data, claimed="application/pdf", name="../../../etc/passwd")

    assert log.media_file_name == "passwd.pdf"
    kept = Path(media_root, log.media_file.name).resolve()
    assert kept.is_file() and kept.is_relative_to((media_root / "media" / str(tenant.id)).resolve())
    assert not list(media_root.parent.rglob("passwd*"))  # nothing written by the sender's name
    assert "etc" not in log.media_file.name


def test_an_html_file_is_downloaded_as_inert_text_never_shown_as_a_page(tenant, tenant_user):
    log = received(tenant, HTML, claimed="text/html", name="menu.html", kind="document")

    assert log.media_mime_type == "application/octet-stream"
    assert log.media_file_name == "menu.html.txt"
    response = signed_in(tenant_user).get(f"/portal/messages/{log.id}/file")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="menu.html.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    # No thumbnail route serves it inline either.
    assert signed_in(tenant_user).get(f"/portal/messages/{log.id}/thumbnail").status_code == 404


def test_a_broken_image_is_kept_as_a_file_without_a_preview(tenant):
    broken = sample("image").data[:200]  # a PNG header, then nothing
    log = received(tenant, broken, claimed="image/png")

    assert log.media_file and not log.media_thumbnail
    assert log.media_note.startswith("no preview: the image could not be read")


def test_staff_see_each_tenants_media_storage_on_its_page(tenant, staff_user):
    pdf = sample("document").data
    received(tenant, pdf, claimed="application/pdf", name="menu.pdf", kind="document")
    page = signed_in(staff_user).get(f"/admin/tenants/tenant/{tenant.id}/change/").content.decode()
    assert f"1 file, {len(pdf)} bytes" in page


def test_an_upload_over_the_cap_is_refused_by_its_size_without_being_read(tenant, media_root):
    import pytest
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workers.services import outbound_media_upload

    class Unread(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before its size was checked")

    Tenant.objects.filter(pk=tenant.pk).update(media_max_bytes=1000)
    tenant.refresh_from_db()
    with pytest.raises(ValidationError, match="the limit is 1000 bytes"):
        outbound_media_upload(tenant=tenant, upload=Unread("big.pdf", b"%PDF" + b"\0" * 5000))
    assert stored_files(media_root) == []
