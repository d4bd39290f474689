"""QR values shaped like WhatsApp Web's, and their module matrices."""

import base64
import functools
import logging
import secrets

import segno

logger = logging.getLogger(__name__)

# Real refs are a version tag ("2@") followed by an opaque server token.
_REF_BYTES = 48
_KEY_BYTES = 32


def _b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def new_qr_value() -> str:
    """Return a fresh `ref,noisePubKeyB64,identityPubKeyB64,advSecretB64` value."""
    return ",".join(["2@" + _b64(_REF_BYTES), _b64(_KEY_BYTES), _b64(_KEY_BYTES), _b64(_KEY_BYTES)])


@functools.lru_cache(maxsize=256)
def qr_matrix(value: str) -> tuple[str, ...]:
    """Return the QR modules of `value` as rows of "0"/"1", without quiet zone.

    The page draws these on its canvas; computing them here keeps the in-page
    JS free of a QR encoder while the code stays really decodable.
    """
    code = segno.make_qr(value, error="l", boost_error=False)
    return tuple("".join("1" if module else "0" for module in row) for row in code.matrix)
