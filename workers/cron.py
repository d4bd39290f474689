"""The jobs cron runs (CRONJOBS in settings; `manage.py crontab add` installs them)."""

from django.conf import settings

from config.startup import validate_environment_or_exit
from workers import retention
from workers.periodic import run_checks


def check_stale_workers() -> None:
    validate_environment_or_exit(process="cron")
    run_checks()


def purge_old_data() -> None:
    validate_environment_or_exit(process="cron")
    retention.message_logs_purge(days=settings.MESSAGE_LOG_RETENTION_DAYS)
    retention.worker_events_purge(days=settings.WORKER_EVENT_RETENTION_DAYS)
    retention.outbound_messages_purge(days=settings.OUTBOUND_RETENTION_DAYS)
    retention.webhook_events_purge(days=settings.WEBHOOK_RETENTION_DAYS)
