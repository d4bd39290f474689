"""Orchestration under a real supervisord: start, crash, restart, stop, unreachable."""

import os
import re
import signal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import WorkerEvent, WorkerProcess
from tests.helpers.processes import alive, chromium_processes_using, wait_until
from tests.helpers.workers import current_qr, state_of, worker_of
from workers import orchestration
from workers.process_manager import SupervisorHost

pytestmark = [pytest.mark.browser, pytest.mark.slow]




def test_it_starts_restarts_after_a_crash_restarts_and_stops_a_worker(
    tenant, simulator, supervisord, worker_env
):
    view = orchestration.worker_start(tenant=tenant, by="test")
    assert view.supervisor is not None and view.supervisor.running
    simulator.link(wait_until(lambda: current_qr(tenant), what="a QR code"))
    wait_until(lambda: worker_of(tenant).status == "RUNNING", what="RUNNING under supervisord")
    first_pid = worker_of(tenant).pid
    assert orchestration.worker_status(tenant=tenant).supervisor.pid == first_pid
    assert orchestration.worker_status(tenant=tenant).disagreement == ""

    # A crash: supervisord restarts it, and the saved login connects it again.
    os.kill(first_pid, signal.SIGKILL)
    wait_until(lambda: worker_of(tenant).pid not in (None, first_pid), timeout=60, what="a restarted worker")
    wait_until(lambda: worker_of(tenant).status == "RUNNING", timeout=60, what="RUNNING after the crash")
    assert state_of(tenant) == "CONNECTED"

    crashed_pid = worker_of(tenant).pid
    orchestration.worker_restart(tenant=tenant, by="test")
    wait_until(
        lambda: worker_of(tenant).status == "RUNNING" and worker_of(tenant).pid != crashed_pid,
        timeout=60,
        what="a new pid",
    )

    last_pid = worker_of(tenant).pid
    view = orchestration.worker_stop(tenant=tenant, by="test")
    assert view.status == "STOPPED"
    assert view.supervisor is None  # the program is gone from supervisord
    assert not alive(last_pid)
    assert chromium_processes_using(Path(worker_env["SESSIONS_DIR"]) / str(tenant.id)) == []
    commands = WorkerEvent.objects.filter(tenant=tenant, kind="COMMAND").values_list("new_value", flat=True)
    assert list(commands.order_by("id")) == ["start", "stop", "start", "stop"]


def test_it_says_which_supervisord_it_cannot_reach_and_changes_nothing(tenant, settings, tmp_path):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/missing.sock#{tmp_path}/conf.d"]
    before = WorkerProcess.objects.get(tenant=tenant)
    with pytest.raises(
        orchestration.OrchestrationError,
        match=f"supervisord at unix://{tmp_path}/missing.sock cannot be reached",
    ):
        orchestration.worker_start(tenant=tenant, by="test")
    with pytest.raises(orchestration.OrchestrationError, match="cannot be reached"):
        orchestration.worker_stop(tenant=tenant, by="test")
    after = WorkerProcess.objects.get(tenant=tenant)
    assert (after.status, after.host, after.updated_at) == (before.status, before.host, before.updated_at)
    assert not (tmp_path / "conf.d").exists()
    assert not WorkerEvent.objects.filter(tenant=tenant, kind="COMMAND").exists()


def test_it_refuses_to_start_a_suspended_tenant(tenant, settings, tmp_path):
    from tenants import services

    services.tenant_set_status(tenant=tenant, status="SUSPENDED")
    with pytest.raises(orchestration.OrchestrationError, match="suspended"):
        orchestration.worker_start(tenant=tenant, by="test")


def test_it_says_when_the_worker_and_supervisord_disagree(tenant, settings, tmp_path):
    from tenants import services

    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=123)
    services.worker_set_status(worker=tenant.worker, status="RUNNING")
    worker = WorkerProcess.objects.select_related("tenant__session").get(tenant=tenant)
    view = orchestration.worker_view(worker, {}, [])
    assert view.disagreement == "the worker says RUNNING but supervisord has no such program"


def test_the_command_line_names_bad_tenants(db):
    for bad, message in [
        ("nope", "is not a tenant id"),
        ("9d3c2f4e-0000-4000-8000-000000000000", "no tenant with id"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("worker", "status", bad)


def test_it_parses_worker_hosts():
    host = SupervisorHost.parse("http://worker-2.internal:9001#/mnt/worker-2/conf.d")
    assert (host.name, str(host.conf_dir)) == ("worker-2.internal", "/mnt/worker-2/conf.d")
    with pytest.raises(ValueError, match="must start with unix://"):
        SupervisorHost.parse("ftp://x")


def test_staff_start_and_stop_a_worker_from_the_admin(client, staff_user, tenant, supervisord):
    from django.urls import reverse

    client.force_login(staff_user)
    url = reverse("admin:tenants_tenant_changelist")
    page = client.post(url, {"action": "start_workers", "_selected_action": [str(tenant.pk)]}, follow=True)
    assert "Acme Bakery: start done (supervisord: " in page.content.decode()
    wait_until(lambda: worker_of(tenant).status == "STARTING", what="the worker starting")
    listing = client.get(reverse("admin:tenants_workerprocess_changelist")).content.decode()
    # supervisord's state in the column, its pid on hover.
    assert re.search(r'<span title="pid \d+">(RUNNING|STARTING)', listing), listing
    page = client.post(url, {"action": "stop_workers", "_selected_action": [str(tenant.pk)]}, follow=True)
    assert "Acme Bakery: stop done (supervisord: no program)" in page.content.decode()
    assert worker_of(tenant).status == "STOPPED"


def test_the_admin_says_plainly_when_supervisord_is_unreachable(
    client, staff_user, tenant, settings, tmp_path
):
    from django.urls import reverse

    settings.WORKER_HOSTS = [f"unix://{tmp_path}/missing.sock#{tmp_path}/conf.d"]
    client.force_login(staff_user)
    page = client.post(
        reverse("admin:tenants_workerprocess_changelist"),
        {"action": "start_workers", "_selected_action": [str(tenant.worker.pk)]},
        follow=True,
    ).content.decode()
    assert (
        f"Acme Bakery: start failed: supervisord at unix://{tmp_path}/missing.sock cannot be reached" in page
    )
    assert "unreachable" in page
    assert worker_of(tenant).status == "STOPPED"


def test_it_places_a_new_worker_on_the_least_loaded_host(tenant, other_tenant, start_supervisord):
    busy, idle = start_supervisord(), start_supervisord()
    # Only the busy host is known at first, so the first worker lands there.
    from django.conf import settings

    settings.WORKER_HOSTS = [busy.spec]
    orchestration.worker_start(tenant=tenant, by="test")
    settings.WORKER_HOSTS = [busy.spec, idle.spec]
    orchestration.worker_start(tenant=other_tenant, by="test")
    names = lambda daemon: {p["name"] for p in daemon.rpc().getAllProcessInfo()}  # noqa: E731
    assert names(busy) == {WorkerProcess.process_name_for(tenant.id)}
    assert names(idle) == {WorkerProcess.process_name_for(other_tenant.id)}
    # Stopping finds each worker on its own host.
    orchestration.worker_stop(tenant=tenant, by="test")
    orchestration.worker_stop(tenant=other_tenant, by="test")
    assert names(busy) == names(idle) == set()


def test_an_action_outside_the_table_is_refused_by_name(tenant):
    with pytest.raises(orchestration.UnknownAction, match="'explode' is not one of start, stop, restart"):
        orchestration.worker_action(tenant=tenant, action="explode", by="a test")
