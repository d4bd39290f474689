"""The stale-worker check, against the real database."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants import services
from tenants.models import Alert, Incident, Tenant, WebhookDelivery, WorkerEvent, WorkerProcess
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_create
from workers.stale import workers_mark_stale


def running_tenant(name: str, seen_seconds_ago: float | None) -> Tenant:
    tenant = services.tenant_create(name=name)
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=1)
    services.session_set_state(session=tenant.session, state="CONNECTED")
    services.worker_set_status(worker=tenant.worker, status="RUNNING")
    services.tenant_set_status(tenant=tenant, status="ACTIVE")
    if seen_seconds_ago is not None:
        services.session_heartbeat(
            session=tenant.session, at=timezone.now() - timedelta(seconds=seen_seconds_ago)
        )
    return tenant


def test_it_marks_a_silent_worker_and_its_tenant_with_one_event_and_one_alert_each(db):
    silent = running_tenant("Silent", seen_seconds_ago=300)
    alive = running_tenant("Alive", seen_seconds_ago=5)
    result = workers_mark_stale(threshold_seconds=120)
    assert (result.checked, result.marked) == (2, 1)
    worker = WorkerProcess.objects.get(tenant=silent)
    assert worker.status == "ERROR"
    assert "no heartbeat for over 120 s" in worker.last_error
    assert Tenant.objects.get(pk=silent.pk).status == "ERROR"
    (stale,) = WorkerEvent.objects.filter(tenant=silent, kind="STALE_MARKED")
    assert stale.reason.startswith("no heartbeat for 30")  # ~300 s
    assert WorkerEvent.objects.filter(tenant=silent, kind="TENANT_STATUS", new_value="ERROR").count() == 1
    (alert,) = Alert.objects.filter(tenant=silent)
    assert (alert.kind, alert.new_status) == ("DOWN", "ERROR")
    assert WorkerProcess.objects.get(tenant=alive).status == "RUNNING"
    assert not Alert.objects.filter(tenant=alive).exists()


def test_it_marks_a_worker_that_never_heartbeat(db):
    running_tenant("Never", seen_seconds_ago=None)
    assert workers_mark_stale(threshold_seconds=120).marked == 1


def test_it_marks_and_alerts_once_when_run_twice(db):
    running_tenant("Silent", seen_seconds_ago=300)
    assert workers_mark_stale(threshold_seconds=120).marked == 1
    assert workers_mark_stale(threshold_seconds=120).marked == 0
    assert Alert.objects.count() == 1
    assert WorkerEvent.objects.filter(kind="STALE_MARKED").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_marks_and_alerts_once_when_two_checks_race():
    for i in range(20):
        running_tenant(f"Silent {i}", seen_seconds_ago=300)
    results, barrier = [], threading.Barrier(2)

    def check() -> None:
        barrier.wait()
        try:
            results.append(workers_mark_stale(threshold_seconds=120).marked)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 20
    assert Alert.objects.count() == 20
    assert WorkerEvent.objects.filter(kind="STALE_MARKED").count() == 20
    assert Incident.objects.filter(closed_at__isnull=True).count() == 20


def test_it_records_the_recovery_when_the_heartbeat_returns(db):
    tenant = running_tenant("Back", seen_seconds_ago=300)
    workers_mark_stale(threshold_seconds=120)
    worker, session = WorkerProcess.objects.get(tenant=tenant), tenant.session
    session.refresh_from_db()
    assert services.worker_heartbeat(worker=worker, session=session)
    assert WorkerProcess.objects.get(tenant=tenant).status == "RUNNING"
    assert Tenant.objects.get(pk=tenant.pk).status == "ACTIVE"
    assert list(Alert.objects.filter(tenant=tenant).order_by("id").values_list("kind", flat=True)) == [
        "DOWN",
        "RECOVERED",
    ]
    assert (
        WorkerEvent.objects.filter(tenant=tenant, kind="WORKER_STATUS", reason="heartbeat resumed").count()
        == 1
    )
    assert not services.worker_heartbeat(worker=worker, session=session)  # nothing more to recover


def marking_queries(count: int) -> int:
    """Each tenant has an endpoint that wants ``worker.status``: the webhook events are set-based too."""
    for i in range(count):
        tenant = services.tenant_create(name=f"T{count}-{i}")
        WorkerProcess.objects.filter(tenant=tenant).update(status="RUNNING")
        endpoint_create(tenant=tenant, url="http://127.0.0.1:9/hook", event_types=[events.WORKER_STATUS])
    with CaptureQueriesContext(connection) as queries:
        assert workers_mark_stale(threshold_seconds=120).marked == count
    assert WebhookDelivery.objects.filter(event_type=events.WORKER_STATUS).count() >= count
    return len(queries)


@pytest.mark.postgres
def test_it_uses_the_same_number_of_queries_for_10_and_1000_workers(db, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    marking_queries(1)  # the first marking ever also creates its counter row
    WorkerProcess.objects.update(status="STOPPED")
    few = marking_queries(10)
    WorkerProcess.objects.update(status="STOPPED")
    many = marking_queries(1000)
    assert many == few


def test_after_a_database_outage_only_the_worker_that_died_is_marked_and_once(db, settings):
    """Rounds a minute apart; then none for 3 minutes (the database unreachable, so no
    heartbeat either); the three healthy workers heartbeat again within 30 s, the fourth
    never does."""
    settings.STALE_CHECK_MAX_GAP_SECONDS = 90
    start = timezone.now()
    tenants = [running_tenant(f"Bakery {n}", seen_seconds_ago=0) for n in range(4)]
    *healthy, dead = tenants

    def beat(at):
        for tenant in healthy:
            services.session_heartbeat(session=tenant.session, at=at)

    def round_at(seconds: float) -> int:
        return workers_mark_stale(now=start + timedelta(seconds=seconds), threshold_seconds=120).marked

    assert [round_at(0), round_at(60)] == [0, 0]
    beat(start + timedelta(seconds=60))
    # The outage: from 70 s to 250 s no round and no heartbeat reach the database.
    assert round_at(250) == 0  # every heartbeat is 190 s old, yet nobody is marked
    beat(start + timedelta(seconds=260))
    assert [round_at(310), round_at(360)] == [0, 0]  # the dead one gets the threshold again
    beat(start + timedelta(seconds=360))
    marked = [round_at(seconds) for seconds in (371, 420, 480)]

    assert marked == [1, 0, 0]
    assert WorkerProcess.objects.get(tenant=dead).status == "ERROR"
    assert [WorkerProcess.objects.get(tenant=t).status for t in healthy] == ["RUNNING"] * 3
    assert list(Alert.objects.values_list("tenant_id", flat=True)) == [dead.id]
    assert WorkerEvent.objects.filter(kind="STALE_MARKED").count() == 1


def test_rounds_within_the_gap_mark_a_silent_worker_as_before(db, settings):
    settings.STALE_CHECK_MAX_GAP_SECONDS = 90
    start = timezone.now()
    running_tenant("Silent", seen_seconds_ago=0)

    marked = [
        workers_mark_stale(now=start + timedelta(seconds=s), threshold_seconds=120).marked
        for s in (0, 60, 120, 121)
    ]

    assert marked == [0, 0, 0, 1]
