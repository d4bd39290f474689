"""Media files of messages: what a file really is, where it is kept, and its thumbnail.

Files go through Django's storage API (``STORAGES["default"]``: the local file system under
MEDIA_ROOT, or an S3-compatible bucket when MEDIA_S3_BUCKET names one) under a name of our own,
``media/<tenant>/<yyyy>/<mm>/<uuid><ext>``; the sender's file name is kept as a label for the
download, never used as a path. The type is read from the content (``filetype``), never
taken from the sender's claim, and a file is only ever served by an authorizing view, as an
attachment (portal.media_views).
"""

import io
import logging
import mimetypes
import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.text import get_valid_filename

from tenants.formatting import format_size
from tenants.models import MessageLog, Tenant

logger = logging.getLogger(__name__)

UNKNOWN_TYPE = "application/octet-stream"
# WhatsApp's message types that carry a file.
MEDIA_KINDS = ("image", "video", "audio", "ptt", "document", "sticker")
# Images we read with Pillow to make a thumbnail; nothing else is ever shown inline.
THUMBNAIL_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
THUMBNAIL_PIXELS = 320
# A name a browser would open as a page or a script is saved with a harmless extension.
_ACTIVE_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml", ".mhtml", ".svg", ".js", ".mjs", ".xml", ".hta")
MAX_FILE_NAME = 120


# The file fields a MessageLog and an OutboundMessage share (one row's file handed to the other).
FILE_FIELDS = ("media_file", "media_thumbnail", "media_mime_type", "media_size", "media_file_name")


@dataclass(frozen=True)
class StoredMedia:
    """A message's file as kept (or the reason it is not): the MessageLog's media fields."""

    file: str  # the storage name; "" when not kept
    thumbnail: str
    mime_type: str
    size: int | None
    file_name: str
    note: str

    def file_fields(self) -> dict[str, Any]:
        values = (self.file, self.thumbnail, self.mime_type, self.size, self.file_name)
        return dict(zip(FILE_FIELDS, values, strict=True))

    def log_fields(self) -> dict[str, Any]:
        """A MessageLog's media fields: the file's, and why it is not kept if it is not."""
        return {**self.file_fields(), "media_note": self.note[:300]}

    def discard(self) -> None:
        """Remove what was stored: the row it was for was never written."""
        media_delete([self.file, self.thumbnail])


def media_cap(tenant: Tenant) -> int:
    """The largest file kept for the tenant: its own cap, else MEDIA_MAX_BYTES."""
    return tenant.media_max_bytes or settings.MEDIA_MAX_BYTES


def too_large(size: int, cap: int) -> str:
    return f"not kept: {format_size(size)} is over this account's limit of {format_size(cap)}"


def upload_too_large(size: int, cap: int) -> str:
    """Why a file a tenant sends is refused whole (an inbound one is logged: too_large)."""
    return f"The file is {format_size(size)}; the limit is {format_size(cap)}."


def sniff(data: bytes) -> str:
    """The MIME type the content itself says; UNKNOWN_TYPE where it says nothing we know."""
    import filetype

    return filetype.guess_mime(data) or UNKNOWN_TYPE


def safe_file_name(claimed: str, mime_type: str) -> str:
    """The sender's file name as a label: no directories, no odd characters, a harmless end.

    ``../../etc/passwd`` becomes ``passwd``; ``menu.html`` becomes ``menu.html.txt``; an image
    named ``cake.exe`` becomes ``cake.exe.jpg``, so the name never says other than the content.
    """
    base = os.path.basename((claimed or "").replace("\\", "/")).strip().lstrip(".")
    name = get_valid_filename(base)[:MAX_FILE_NAME] if base else ""
    known = extension_for(mime_type)
    if not name:
        return f"file{known or ''}"
    lower = name.lower()
    if known and not lower.endswith(_same_extensions(mime_type)):
        return name + known
    if not known and lower.endswith(_ACTIVE_EXTENSIONS):
        return name + ".txt"
    return name


def extension_for(mime_type: str) -> str:
    if mime_type == UNKNOWN_TYPE:
        return ""
    return {"image/jpeg": ".jpg", "audio/ogg": ".ogg", "audio/mpeg": ".mp3"}.get(mime_type) or (
        mimetypes.guess_extension(mime_type) or ""
    )


def _same_extensions(mime_type: str) -> tuple[str, ...]:
    found = tuple(mimetypes.guess_all_extensions(mime_type))
    return found + ((".jpeg", ".jpg") if mime_type == "image/jpeg" else ())


def contradiction(claimed: str, actual: str) -> str:
    """A note when the sender's claimed type is not what the content is."""
    claimed = (claimed or "").split(";")[0].strip().lower()
    if not claimed or actual == UNKNOWN_TYPE or claimed == actual:
        return ""
    if claimed.split("/")[0] == actual.split("/")[0]:
        return ""  # image/jpg against image/jpeg, audio/ogg against audio/opus: the same kind
    return f"sent as {claimed[:60]}, but the content is {actual}"


def media_store(*, tenant: Tenant, data: bytes, claimed_type: str, file_name: str) -> StoredMedia:
    """Keep one message's file (and an image's thumbnail); over the cap, keep only why not."""
    cap = media_cap(tenant)
    mime_type = sniff(data)
    label = safe_file_name(file_name, mime_type)
    if len(data) > cap:
        return StoredMedia("", "", mime_type, len(data), label, too_large(len(data), cap))
    now = timezone.now()
    stem = f"media/{tenant.id}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
    name = default_storage.save(stem + extension_for(mime_type), ContentFile(data))
    note = contradiction(claimed_type, mime_type)
    thumbnail = ""
    if mime_type in THUMBNAIL_TYPES:
        try:
            thumbnail = default_storage.save(f"{stem}_thumb.jpg", ContentFile(make_thumbnail(data)))
        except Exception as exc:
            note = note or f"no preview: the image could not be read ({type(exc).__name__})"
    logger.info(
        "media stored",
        extra={
            "tenant_id": str(tenant.id),
            "mime_type": mime_type,
            "size": len(data),
            "thumbnail": bool(thumbnail),
        },
    )
    return StoredMedia(name, thumbnail, mime_type, len(data), label, note)


def media_not_kept(*, reason: str, claimed_type: str, size: int | None, file_name: str) -> StoredMedia:
    """A file the worker could not fetch or may not keep: the row still says what it was."""
    mime_type = (claimed_type or "").split(";")[0].strip()[:100]
    return StoredMedia("", "", mime_type, size, safe_file_name(file_name, UNKNOWN_TYPE), reason)


def make_thumbnail(data: bytes) -> bytes:
    """A JPEG at most THUMBNAIL_PIXELS on its longer side, made here (never by the browser)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))  # JPEG: decode small
        image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def media_delete(names: list[str]) -> None:
    """Remove stored files; one already gone is fine (a purge run twice, a failed write)."""
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError as exc:
                logger.warning("media file not removed", extra={"file": name, "error": str(exc)[:200]})


def media_delete_tenant(tenant_id: uuid.UUID) -> int:
    """Remove every file kept for a tenant (it is being deleted), wherever storage keeps them.

    Walks the storage's own listing, so a bucket is emptied of the tenant's objects as a
    local folder is; returns how many files went.
    """
    removed = 0
    folders = [f"media/{tenant_id}"]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders.extend(f"{folder}/{sub}" for sub in subfolders)
        names = [f"{folder}/{name}" for name in files]
        media_delete(names)
        removed += len(names)
    return removed


def api_url(log: MessageLog) -> str:
    """Where the tenant's own program fetches a message's file with its API key."""
    return f"/api/portal/tenant/current/logs/{log.id}/media"


def media_response(log: MessageLog, *, thumbnail: bool = False) -> FileResponse:
    """A message's file for someone already allowed to see it (the caller checks who).

    Never shown as a page: everything but our own JPEG thumbnail is an attachment, typed as
    its content says, with nosniff and a sandbox so a browser cannot run what it holds.
    """
    name = log.media_thumbnail.name if thumbnail else log.media_file.name
    if not name:
        raise Http404("no file is kept for this message")
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("this message's file is gone") from None
    response = FileResponse(
        handle,
        content_type="image/jpeg" if thumbnail else (log.media_mime_type or UNKNOWN_TYPE),
        as_attachment=not thumbnail,
        filename=log.media_file_name or safe_file_name("", log.media_mime_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response
