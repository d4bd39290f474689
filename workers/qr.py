"""The login QR as a sharp PNG, rendered from its value (never a screenshot of the canvas)."""

import segno


def qr_png_data_uri(value: str) -> str:
    return segno.make(value, error="m", micro=False).png_data_uri(scale=6, border=4)
