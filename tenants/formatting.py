"""How ages, durations and shares read to a person: the only such formatting, for the admin and
the portal alike."""

import math
from datetime import timedelta


def humanize_age(age: timedelta | None) -> str:
    """``42 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``never`` for no heartbeat."""
    if age is None:
        return "never"
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def percent(share: float | None) -> str:
    if share is None:
        return "no data"
    # Rounded down: 99.96 % of a day is not "100.0 %", which would read as no outage at all.
    return f"{math.floor(share * 1000) / 10:.1f} %"


def duration(value: timedelta) -> str:
    return humanize_age(value).removesuffix(" ago")


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
