"""``python manage.py worker start|stop|restart|status <tenant>``: a tenant's worker, by hand."""

import json
from dataclasses import asdict

from django.core.management.base import CommandError, CommandParser

from config.startup import PlatformCommand
from tenants.logs.files import InvalidTenantId, parse_tenant_id
from tenants.models import Tenant
from workers import orchestration


class Command(PlatformCommand):
    help = "Start, stop, restart or show a tenant's worker (under supervisord)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=[*orchestration.ACTIONS, "status"])
        parser.add_argument("tenant", help="the tenant's id (a UUID)")
        parser.add_argument("--json", action="store_true", help="print the status as JSON")

    def handle(self, *args: object, action: str, tenant: str, json: bool, **options: object) -> None:
        found = find_tenant(tenant)
        try:
            if action == "status":
                view = orchestration.worker_status(tenant=found)
            else:
                view = orchestration.worker_action(tenant=found, action=action, by="manage.py worker")
        except orchestration.OrchestrationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(render(view, as_json=json))


def find_tenant(value: str) -> Tenant:
    try:
        tenant_id = parse_tenant_id(value)
    except InvalidTenantId as exc:
        raise CommandError(str(exc)) from exc
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise CommandError(f"no tenant with id {tenant_id}")
    return tenant


def render(view: orchestration.WorkerView, *, as_json: bool) -> str:
    if as_json:
        return json.dumps(asdict(view), default=str, indent=2)
    info = view.supervisor
    supervisor = "no such program" if info is None else f"{info.state} pid {info.pid or '-'}"
    if info is not None and info.uptime_seconds is not None:
        supervisor += f", up {info.uptime_seconds} s"
    heartbeat = "never" if view.heartbeat_age_seconds is None else f"{view.heartbeat_age_seconds} s ago"
    lines = [
        f"{view.process_name}",
        f"  worker:      {view.status} on {view.host or '-'} pid {view.pid or '-'}, heartbeat {heartbeat}",
        f"  supervisord: {view.supervisor_error or supervisor}",
    ]
    if view.disagreement:
        lines.append(f"  WARNING:     {view.disagreement}")
    return "\n".join(lines)
