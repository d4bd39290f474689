"""How ages and states read to a person, shared by the admin and the portal."""

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
