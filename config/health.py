"""Liveness and readiness, for load balancers and Prometheus: cheap enough to poll every few s.

``/healthz`` says the process answers (no database touched). ``/readyz`` says whether it can
serve: the database answers, migrations are applied, LOG_DIR is writable; it names what
failed and answers 503 until it recovers by itself.
"""

import logging

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import probes
from tenants.models import WorkerProcess

logger = logging.getLogger(__name__)

# Once applied, migrations stay applied for this process's life: checked until true, then cached.
_migrations_applied = False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    problem = probes.database_problem()
    return None if problem is None else f"unreachable: {problem[:200]}"


def check_migrations() -> str | None:
    global _migrations_applied
    if _migrations_applied:
        return None
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"{len(pending)} migration(s) not applied"
    _migrations_applied = True
    return None


def check_log_dir() -> str | None:
    problem = probes.log_dir_problem()
    return None if problem is None else f"{settings.LOG_DIR} not writable: {problem}"


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    database = check_database()
    checks["database"] = database or "ok"
    checks["migrations"] = "skipped: no database" if database else (check_migrations() or "ok")
    checks["log_dir"] = check_log_dir() or "ok"
    failed = [name for name, result in checks.items() if result != "ok"]
    body: dict = {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}
    if not database:
        body["workers"] = dict(WorkerProcess.objects.values_list("status").annotate(n=Count("id")).order_by())
    if failed:
        logger.warning("not ready", extra={"failed": failed, "checks": checks})
    return JsonResponse(body, status=503 if failed else 200)
