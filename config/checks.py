"""Startup validation: run by ``manage.py check``, the web server and every worker at start.

An Error stops the process before it serves or drives anything; a Warning is printed. The
production variables are a deployment check (``manage.py check --deploy``), so a fresh clone's
``manage.py check`` and ``makemigrations`` work; every process that runs the platform still
runs it (config.startup).
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from config import probes

ENVIRONMENT = "environment"  # the tag of the production-variables check


@register(ENVIRONMENT, deploy=True)
def check_required_environment(**kwargs: object) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    return [
        Error(
            f"{name} is not set.",
            hint=f"Set {name} in the environment (see .env.example); production has no default.",
            id="platform.E001",
        )
        for name in settings.MISSING_REQUIRED_ENV
    ]


@register()
def check_database_reachable(**kwargs: object) -> list[CheckMessage]:
    problem = probes.database_problem()
    if problem is not None:
        db = settings.DATABASES["default"]
        where = db.get("HOST") or db.get("NAME")
        if db.get("PORT"):
            where = f"{where}:{db['PORT']}"
        return [
            Error(
                f"The database at {where} cannot be reached: {problem}",
                hint="Is the server running, and is DATABASE_URL right (host, port, user, name)?",
                id="platform.E002",
            )
        ]
    return []


@register()
def check_log_dir_writable(**kwargs: object) -> list[CheckMessage]:
    problem = probes.log_dir_problem()
    if problem is not None:
        return [
            Error(
                f"LOG_DIR {Path(settings.LOG_DIR)} is not writable: {problem}",
                hint="Create the directory and give the platform's user write access, or set LOG_DIR.",
                id="platform.E003",
            )
        ]
    return []


def _executable(path: str) -> bool:
    return bool(path) and (os.access(path, os.X_OK) or shutil.which(path) is not None)


@register()
def check_browser_installed(**kwargs: object) -> list[CheckMessage]:
    if settings.DEBUG or settings.SELENIUM_REMOTE_URL:
        return []
    found: list[CheckMessage] = []
    for name in ("CHROME_BINARY", "CHROMEDRIVER_PATH"):
        path = getattr(settings, name)
        if not _executable(path):
            found.append(
                Warning(
                    f"{name} {path!r} is not an executable file: workers will fail to start.",
                    hint="Install Debian's chromium and chromium-driver, or set the path.",
                    id="platform.W001",
                )
            )
    return found
