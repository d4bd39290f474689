"""Start, stop, restart and inspect tenants' workers: the one service the admin, the admin
API and ``manage.py worker`` call.

A worker is a supervisord program on one of ``WORKER_HOSTS``. The database is changed only
after supervisord did what was asked; the worker process itself records STARTING, RUNNING
and STOPPED as it gets there.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from tenants import services as tenant_services
from tenants.models import Tenant, WorkerProcess, seconds_since
from workers.process_manager import ProcessManagerError, ProgramInfo, SupervisorHost, SupervisorUnavailable
from workers.supervisor_config import worker_program

logger = logging.getLogger(__name__)

Status = WorkerProcess.Status


class OrchestrationError(Exception):
    """A start/stop that could not be done; the message says why, for a person."""


class WorkerHostsUnreachable(OrchestrationError):
    """No supervisord of WORKER_HOSTS answered; the message names each one."""


@dataclass(frozen=True)
class WorkerView:
    """A worker as the database and supervisord each see it, and whether they disagree."""

    tenant_id: str
    process_name: str
    status: str
    host: str
    pid: int | None
    heartbeat_age_seconds: int | None
    supervisor: ProgramInfo | None
    supervisor_error: str
    disagreement: str


def configured_hosts() -> list[SupervisorHost]:
    return [SupervisorHost.parse(spec) for spec in settings.WORKER_HOSTS]


def _locate(name: str) -> tuple[SupervisorHost | None, ProgramInfo | None, list[SupervisorHost]]:
    """Which host has the program (and its state), and the hosts that answered.

    Raises OrchestrationError naming every unreachable supervisord when none answers.
    """
    reachable, unreachable = [], []
    for host in configured_hosts():
        try:
            info = host.program(name)
        except SupervisorUnavailable as exc:
            unreachable.append(str(exc))
            continue
        reachable.append(host)
        if info is not None:
            return host, info, reachable
    if not reachable:
        raise WorkerHostsUnreachable("; ".join(unreachable) or "no WORKER_HOSTS are configured")
    return None, None, reachable


def worker_start(*, tenant: Tenant, by: str) -> WorkerView:
    if tenant.status == Tenant.Status.SUSPENDED:
        raise OrchestrationError(f"{tenant.name} is suspended; unsuspend it before starting its worker")
    worker = WorkerProcess.objects.get(tenant=tenant)
    host, info, reachable = _locate(worker.process_name)
    if info is not None and info.running:
        return worker_status(tenant=tenant)
    if host is None:
        # The least-loaded reachable host gets a new worker.
        host = min(reachable, key=lambda h: h.load())
    try:
        host.add(worker_program(tenant.id))
        host.start(worker.process_name)
    except ProcessManagerError as exc:
        raise OrchestrationError(str(exc)) from exc
    tenant_services.worker_record_command(worker=worker, action="start", by=by, host=host.name)
    return worker_status(tenant=tenant)


def worker_stop(*, tenant: Tenant, by: str) -> WorkerView:
    worker = WorkerProcess.objects.get(tenant=tenant)
    host, _, _ = _locate(worker.process_name)
    if host is not None:
        try:
            host.stop(worker.process_name)
            host.remove(worker.process_name)
        except ProcessManagerError as exc:
            raise OrchestrationError(str(exc)) from exc
        tenant_services.worker_record_command(worker=worker, action="stop", by=by, host=host.name)
    worker.refresh_from_db()
    if worker.status != Status.STOPPED:
        # The process did not get to say so itself (it was not running, or was killed).
        tenant_services.worker_set_status(worker=worker, status=Status.STOPPED, reason=f"stopped by {by}")
    return worker_status(tenant=tenant)


def worker_restart(*, tenant: Tenant, by: str) -> WorkerView:
    worker_stop(tenant=tenant, by=by)
    return worker_start(tenant=tenant, by=by)


class UnknownAction(OrchestrationError):
    """An action that is none of ACTIONS."""


# What can be done to a worker, by name: the admin's actions, the staff API's
# ``worker/<action>`` and ``manage.py worker <action>`` all look the name up here.
ACTIONS: dict[str, Callable[..., WorkerView]] = {
    "start": worker_start,
    "stop": worker_stop,
    "restart": worker_restart,
}


def worker_action(*, tenant: Tenant, action: str, by: str) -> WorkerView:
    """Do ``action`` (one of ACTIONS) to the tenant's worker, on behalf of ``by``.

    Raises WorkerHostsUnreachable when no supervisord answers, and OrchestrationError for any
    other refusal (a suspended tenant, a supervisord fault, an unknown action).
    """
    service = ACTIONS.get(action)
    if service is None:
        raise UnknownAction(f"{action[:40]!r} is not one of {', '.join(ACTIONS)}")
    return service(tenant=tenant, by=by)


def disagreement(worker: WorkerProcess, info: ProgramInfo | None, heartbeat_age: int | None) -> str:
    """Say plainly when supervisord and the worker's own status tell different stories."""
    threshold = settings.STALE_WORKER_THRESHOLD_SECONDS
    says_running = worker.status in (Status.STARTING, Status.RUNNING)
    if says_running and info is None:
        return f"the worker says {worker.status} but supervisord has no such program"
    if says_running and info is not None and not info.running:
        return f"the worker says {worker.status} but supervisord says {info.state}"
    if info is not None and info.state == "RUNNING":
        if worker.status == Status.RUNNING and (heartbeat_age is None or heartbeat_age > threshold):
            silence = "no heartbeat yet" if heartbeat_age is None else f"no heartbeat for {heartbeat_age} s"
            return f"supervisord says RUNNING but {silence}"
        if worker.status in (Status.STOPPED, Status.ERROR):
            return f"supervisord says RUNNING but the worker says {worker.status}"
    return ""


def supervisor_programs() -> tuple[dict[str, ProgramInfo], list[str]]:
    """Every program on every reachable host (one call per host), and the unreachable ones."""
    programs: dict[str, ProgramInfo] = {}
    errors = []
    for host in configured_hosts():
        try:
            programs.update(host.programs())
        except SupervisorUnavailable as exc:
            errors.append(str(exc))
    return programs, errors


def worker_view(worker: WorkerProcess, programs: dict[str, ProgramInfo], errors: list[str]) -> WorkerView:
    session = worker.tenant.session
    age = seconds_since(session.last_seen_at, timezone.now())
    info = programs.get(worker.process_name)
    return WorkerView(
        tenant_id=str(worker.tenant_id),
        process_name=worker.process_name,
        status=worker.status,
        host=worker.host,
        pid=worker.pid,
        heartbeat_age_seconds=age,
        supervisor=info,
        supervisor_error="; ".join(errors),
        disagreement="" if errors and info is None else disagreement(worker, info, age),
    )


def worker_status(*, tenant: Tenant) -> WorkerView:
    worker = WorkerProcess.objects.select_related("tenant__session").get(tenant=tenant)
    programs, errors = supervisor_programs()
    return worker_view(worker, programs, errors)
