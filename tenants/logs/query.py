"""What a reader of a tenant's log asks for, parsed once: how many lines, from which level,
since when, containing what.

The one rule behind the admin's log page, the staff API and ``tenant_logs``: each names the
fields its own way (a form label, a query parameter, an option) but accepts and refuses
the same values, with the same words.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
DEFAULT_LINES = 200
MAX_LINES = 5000
MAX_GREP = 200
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Older lines are asked for by leaving "since" out: a bound keeps every age a real date.
MAX_AGE = timedelta(days=366)
SINCE_HELP = "an age like 15m, 1h, 24h or 7d (at most 366d), or an ISO time with a zone"


class BadLogQuery(ValueError):
    """One field that names nothing readable; ``problem`` says what would do."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class LineFilter:
    min_level: int = 0
    since: datetime | None = None
    grep: str = ""

    def accepts(self, record: dict) -> bool:
        if LEVELS.get(str(record.get("level", "")).upper(), 0) < self.min_level:
            return False
        return not self.grep or self.grep.lower() in json.dumps(record, ensure_ascii=False).lower()


@dataclass(frozen=True)
class LogQuery:
    lines: int = DEFAULT_LINES
    filter: LineFilter = field(default_factory=LineFilter)


def parse_age(value: str) -> timedelta | None:
    """``90s``, ``15m``, ``1h``, ``2d``; None for anything else. Past MAX_AGE it is MAX_AGE
    plus a second, so callers can refuse it without the number overflowing a date."""
    if len(value) >= 2 and value[:-1].isdigit() and value[-1] in AGE_UNITS:
        seconds = int(value[:-1]) * AGE_UNITS[value[-1]]
        return timedelta(seconds=min(seconds, int(MAX_AGE.total_seconds()) + 1))
    return None


def parse_since(value: str, now: datetime) -> datetime:
    """An age before ``now`` (``15m``, ``1h``, ``2d``) or an ISO time with a zone."""
    age = parse_age(value)
    if age is not None:
        if age > MAX_AGE:
            raise BadLogQuery("since", f"at most {MAX_AGE.days}d; leave it out for all lines")
        return now - age
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadLogQuery("since", SINCE_HELP) from None
    if moment.tzinfo is None:
        raise BadLogQuery("since", SINCE_HELP)
    return moment


def parse_lines(value: str | int | None) -> int:
    if value is None or value == "":
        return DEFAULT_LINES
    text = str(value).strip()
    number = int(text) if text.lstrip("-").isdigit() else None
    if number is None:
        raise BadLogQuery("lines", f"a whole number from 1 to {MAX_LINES}; got {text[:20]!r}")
    if number < 1:
        raise BadLogQuery("lines", f"must be 1 or more; got {number}")
    if number > MAX_LINES:
        raise BadLogQuery("lines", f"must be at most {MAX_LINES}; got {number}")
    return number


def parse_level(value: str | None) -> int:
    """The minimum level's number (0: any level) from its name, in any case."""
    name = (value or "").strip().upper()
    if name and name not in LEVELS:
        raise BadLogQuery("level", f"one of {', '.join(LEVELS)}")
    return LEVELS.get(name, 0)


def parse_log_query(
    *,
    now: datetime,
    lines: str | int | None = None,
    level: str | None = None,
    since: str | None = None,
    grep: str | None = None,
) -> LogQuery:
    """The query from its raw fields (empty or None: the default); BadLogQuery names the first bad one."""
    text = (grep or "")[:MAX_GREP]
    return LogQuery(
        lines=parse_lines(lines),
        filter=LineFilter(
            min_level=parse_level(level),
            since=parse_since(since.strip(), now) if since and since.strip() else None,
            grep=text,
        ),
    )
