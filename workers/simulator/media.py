"""The files the simulator's contacts send (a photo, a PDF, a voice note) and the worker's.

A sample is made here, small and real (a PNG a browser shows, a PDF a reader opens, a WAV a
player plays), so no binary sits in the repository. The control API may also give its own
bytes, with any claimed type and name: that is how the tests send a lie.
"""

import base64
import binascii
import dataclasses
import io
import math
import struct
import wave
import zlib

MEDIA_TYPES = ("image", "video", "audio", "ptt", "document", "sticker")
MAX_MEDIA_BYTES = 16 * 1024 * 1024


class MediaError(ValueError):
    """Bad media in a control or page request: the message says what."""


@dataclasses.dataclass(frozen=True)
class Media:
    type: str  # WhatsApp's message type: image, ptt, document, ...
    mimetype: str  # what the sender claims
    filename: str
    data: bytes
    caption: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def summary(self) -> dict:
        return {
            "type": self.type,
            "mimetype": self.mimetype,
            "filename": self.filename,
            "size": self.size,
            "caption": self.caption,
        }


def sample(kind: str) -> Media:
    """The control page's "photo", "document" and "voice note"."""
    if kind == "image":
        return Media("image", "image/png", "", _png())
    if kind == "document":
        return Media("document", "application/pdf", "price-list.pdf", _pdf())
    if kind == "ptt":
        return Media("ptt", "audio/wav", "", _wav())
    raise MediaError("sample must be image, document or ptt")


def from_request(raw: object, *, caption: str = "") -> Media:
    """``{"type": ..., "mimetype": ..., "filename": ..., "base64": ...}``; without base64 the
    type's sample (its claims may still be overridden)."""
    if not isinstance(raw, dict):
        raise MediaError("media must be an object: {type, mimetype?, filename?, base64?}")
    kind = raw.get("type")
    if kind not in MEDIA_TYPES:
        raise MediaError(f"media.type must be one of {', '.join(MEDIA_TYPES)}")
    encoded = raw.get("base64")
    if encoded is None:
        base = sample(kind if kind in ("image", "document", "ptt") else "document")
        data, mimetype, filename = base.data, base.mimetype, base.filename
    else:
        if not isinstance(encoded, str):
            raise MediaError("media.base64 must be a string")
        try:
            data = base64.b64decode(
                encoded.partition(",")[2] if encoded.startswith("data:") else encoded, validate=True
            )
        except binascii.Error:
            raise MediaError("media.base64 is not valid base64") from None
        mimetype, filename = "application/octet-stream", ""
    if len(data) > MAX_MEDIA_BYTES:
        raise MediaError(f"media is larger than {MAX_MEDIA_BYTES} bytes")
    mimetype = raw.get("mimetype", mimetype)
    filename = raw.get("filename", filename)
    if (
        not isinstance(mimetype, str)
        or len(mimetype) > 100
        or not isinstance(filename, str)
        or len(filename) > 255
    ):
        raise MediaError("media.mimetype (at most 100) and media.filename (at most 255) must be strings")
    return Media(kind, mimetype, filename, data, caption)


def _png(width: int = 480, height: int = 360) -> bytes:
    """A warm gradient with a round "cake": a real PNG, drawn without an image library."""
    rows = []
    cx, cy, r = width / 2, height / 2, min(width, height) / 3
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
            if inside:
                row += bytes((240, 170 + int(40 * y / height), 190))
            else:
                row += bytes((250, 235 - int(60 * y / height), 200 - int(80 * x / width)))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _pdf() -> bytes:
    """A one-page PDF that says "Price list"."""
    stream = b"BT /F1 24 Tf 72 720 Td (Price list: rye 4.50, sourdough 5.20) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _wav(seconds: float = 1.2, rate: int = 8000) -> bytes:
    """A short two-tone "voice note"."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            tone = 440 if n < rate * seconds / 2 else 660
            frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * n / rate)))
        audio.writeframes(bytes(frames))
    return out.getvalue()
