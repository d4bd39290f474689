"""The project's one logging setup: formatters and the dictConfig every process uses.

JSON lines for machines (LOG_FORMAT=json), a readable line for a person at a terminal
(LOG_FORMAT=pretty). Both carry the structured fields passed in ``extra``. The per-tenant
files are added by ``tenants.logs.handler.tenant_logger``; they are always JSON.
"""

import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("json", "pretty")

# The attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def parse_log_level(value: str) -> str:
    level = value.strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ImproperlyConfigured(
            f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got {value!r}"
        )
    return level


def parse_log_format(value: str) -> str:
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'pretty'; got {value!r}")
    return fmt


def utc_timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}


_STANDARD_FIELDS = ("timestamp", "level", "logger", "message", "exc_info")


def extra_field_names(record: dict) -> list[str]:
    """The structured fields of a parsed JSON log line, beyond the standard ones."""
    return [key for key in record if key not in _STANDARD_FIELDS]


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: timestamp (ISO 8601 UTC), level, logger, message, extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[a for a in _RECORD_ATTRS if a not in ("levelname", "name")],
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = utc_timestamp(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)
        # The renamed copies were written above, first, so every line starts the same way.
        log_data.pop("levelname", None)
        log_data.pop("name", None)


class PrettyFormatter(logging.Formatter):
    """``12:04:05 INFO  tenants.services: worker status changed  tenant_id=… new=RUNNING``"""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC).strftime("%H:%M:%S")
        fields = "  ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        line = f"{moment} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if fields:
            line = f"{line}  {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def build_logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    formatter = "json" if fmt == "json" else "pretty"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonLineFormatter},
            "pretty": {"()": PrettyFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own loggers propagate to root so they share the format.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
        },
    }


def mask_number(number: str | None) -> str:
    """A phone number fit for an operational log: only its last 4 digits."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if not digits:
        return ""
    return f"***{digits[-4:]}"


def mask_message_id(wa_message_id: str | None) -> str:
    """A WhatsApp message id names the chat's number (``false_15551234567@c.us_3EB0…``):
    keep the id's own part, mask the numbers."""
    if not wa_message_id:
        return ""
    return re.sub(r"\d{5,}(?=@)", lambda m: mask_number(m.group()), wa_message_id)


def mask_email(email: str | None) -> str:
    """``o***@example.com``: enough to tell accounts apart in a log, not to read the address."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
