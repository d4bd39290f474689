"""Suspending a tenant whose worker is connected: the worker stops, by supervisord or by itself."""

import pytest

from tenants.models import WorkerEvent
from tests.helpers.workers import connect, worker_of
from workers import orchestration, suspension

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_it_stops_the_worker_under_supervisord(tenant, simulator, supervisord, worker_env):
    orchestration.worker_start(tenant=tenant, by="test")
    connect(tenant, simulator)
    result = suspension.tenant_suspend(tenant=tenant, by="staff@platform.test")
    assert result.worker_stopped
    assert worker_of(tenant).status == "STOPPED"
    assert orchestration.worker_status(tenant=tenant).supervisor is None


def test_a_worker_supervisord_could_not_stop_stops_itself(
    tenant, simulator, start_worker, settings, tmp_path
):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d"]
    worker = start_worker(tenant.id, simulator)
    connect(tenant, simulator)
    assert not suspension.tenant_suspend(tenant=tenant, by="staff@platform.test").worker_stopped
    assert worker.wait(timeout=30) == 0
    assert worker_of(tenant).status == "STOPPED"
    last = WorkerEvent.objects.filter(tenant=tenant, kind="WORKER_STATUS").latest("id")
    assert (last.new_value, last.reason) == ("STOPPED", "stopped: the tenant was suspended")
