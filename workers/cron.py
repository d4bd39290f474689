"""The jobs cron runs (CRONJOBS in settings; `manage.py crontab add` installs them)."""

from workers.periodic import run_checks


def check_stale_workers() -> None:
    run_checks()


def purge_old_data() -> None:
    from django.conf import settings

    from tenants import retention

    retention.message_logs_purge(days=settings.MESSAGE_LOG_RETENTION_DAYS)
    retention.worker_events_purge(days=settings.WORKER_EVENT_RETENTION_DAYS)
    retention.outbound_messages_purge(days=settings.OUTBOUND_RETENTION_DAYS)
