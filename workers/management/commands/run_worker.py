"""``python manage.py run_worker <tenant>``: one tenant's WhatsApp worker, in the foreground.

Exit codes: 0 stopped on request or waiting for a person (QR not scanned), 1 failed (the
supervisor restarts it), 2 bad arguments (unknown tenant, suspended, session held elsewhere).
"""

import faulthandler
import io
import logging
import os
import signal
import sys
import threading
from typing import cast

from django.conf import settings
from django.core.checks import Tags
from django.core.management.base import CommandParser
from django.db import connections

from config.outage import WaitsForDatabase
from config.startup import PlatformCommand
from tenants.logs.files import InvalidTenantId, parse_tenant_id
from tenants.logs.handler import tenant_logger
from tenants.models import Tenant
from workers.runtime import Worker, WorkerConfig
from workers.runtime.journal import FILE_NAME as JOURNAL_FILE
from workers.runtime.journal import Journal
from workers.runtime.launch import LaunchQueue
from workers.whatsapp.client import WhatsAppClient
from workers.whatsapp.profile import ProfileInUse, hold_session_lock

logger = logging.getLogger(__name__)

EXIT_USAGE = 2


class Command(WaitsForDatabase, PlatformCommand):
    help = "Run one tenant's WhatsApp Web worker (tenant by UUID, or the TENANT_ID variable)."
    # The checks of what a worker uses. Not the URL, template or admin checks: they import
    # the admin, the APIs and the portal, ~30 MB per tenant the worker would never use.
    requires_system_checks = [Tags.models, Tags.database, Tags.caches, Tags.files, Tags.signals]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", nargs="?", default=os.environ.get("TENANT_ID", ""))

    def handle(self, *args: object, tenant: str, **options: object) -> None:
        # Line by line to the supervisor's log file: a killed worker's last words are kept.
        # A process's own stdout (here the pipe supervisord reads) is a TextIOWrapper; typeshed
        # types sys.stdout as TextIO, which has no reconfigure.
        cast(io.TextIOWrapper, sys.stdout).reconfigure(line_buffering=True)
        code = run_worker(tenant)
        connections.close_all()
        sys.exit(code)


def refuse(reason: str, tenant_id: str = "") -> int:
    logger.error("worker refused to start", extra={"reason": reason, "tenant_id": tenant_id[:80]})
    sys.stderr.write(f"run_worker: {reason}\n")
    return EXIT_USAGE


def run_worker(tenant_arg: str) -> int:
    if not tenant_arg:
        return refuse("no tenant given: pass its id (a UUID) or set TENANT_ID")
    try:
        tenant_id = parse_tenant_id(tenant_arg)
    except InvalidTenantId as exc:
        return refuse(str(exc))
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return refuse(f"no tenant with id {tenant_id}", str(tenant_id))
    if tenant.status == Tenant.Status.SUSPENDED:
        return refuse(f"tenant {tenant_id} is suspended", str(tenant_id))
    try:
        lock = hold_session_lock(settings.SESSIONS_DIR / f"{tenant_id}.lock")
    except ProfileInUse as exc:
        return refuse(str(exc), str(tenant_id))
    log = tenant_logger(tenant_id)
    client = WhatsAppClient(
        url=settings.WHATSAPP_WEB_URL,
        profile_dir=settings.SESSIONS_DIR / str(tenant_id),
        artifacts_dir=settings.LOG_DIR / str(tenant_id),
        chrome_binary=settings.CHROME_BINARY,
        chromedriver_path=settings.CHROMEDRIVER_PATH,
        remote_url=settings.SELENIUM_REMOTE_URL,
        command_timeout=settings.WORKER_BROWSER_TIMEOUT_SECONDS,
        log=log,
    )
    journal = Journal(settings.SESSIONS_DIR / str(tenant_id) / JOURNAL_FILE, log)
    launch = LaunchQueue(
        settings.SESSIONS_DIR / ".launch", slots=settings.WORKER_START_CONCURRENCY, name=str(tenant_id)
    )
    worker = Worker(
        tenant=tenant,
        client=client,
        config=WorkerConfig.from_settings(),
        log=log,
        journal=journal,
        launch=launch,
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.request_stop())
    threading.excepthook = worker.fail_from_thread
    # `kill -USR1 <pid>` prints every thread's stack to stderr: a stuck worker explains itself.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        return worker.run()
    finally:
        lock.close()
