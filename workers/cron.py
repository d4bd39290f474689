"""The jobs cron runs (CRONJOBS in settings; `manage.py crontab add` installs them)."""

from workers.periodic import run_checks


def check_stale_workers() -> None:
    run_checks()
