import pytest
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import MessageLog, SetupRequest, Tenant, WhatsAppSession, WorkerEvent, WorkerProcess


def events(tenant, kind=None):
    qs = WorkerEvent.objects.filter(tenant=tenant)
    return list(qs.filter(kind=kind) if kind else qs)


def test_it_creates_a_tenant_with_one_stopped_worker_and_session(db):
    tenant = services.tenant_create(name="Corner Shop")
    worker = WorkerProcess.objects.get(tenant=tenant)
    assert worker.status == WorkerProcess.Status.STOPPED
    assert worker.process_name == f"wa-worker-{tenant.id}"
    assert WhatsAppSession.objects.get(tenant=tenant).state == WhatsAppSession.State.STOPPED
    assert [e.new_value for e in events(tenant)] == ["NEW"]


def test_it_rejects_a_tenant_without_a_name(db):
    with pytest.raises(ValidationError):
        services.tenant_create(name="")
    assert not Tenant.objects.exists()


def test_it_records_one_event_per_tenant_status_change(tenant):
    result = services.tenant_set_status(tenant=tenant, status=Tenant.Status.ERROR, reason="logged out")
    assert result.changed
    (event,) = events(tenant, WorkerEvent.Kind.TENANT_STATUS)[:1]
    assert (event.old_value, event.new_value, event.reason) == ("NEW", "ERROR", "logged out")
    tenant.refresh_from_db()
    assert tenant.status == "ERROR"


def test_it_records_nothing_when_the_status_does_not_change(tenant):
    before = len(events(tenant))
    result = services.tenant_set_status(tenant=tenant, status=Tenant.Status.NEW)
    assert not result.changed
    assert len(events(tenant)) == before


def test_it_records_pid_and_host_when_a_worker_starts(tenant):
    worker = tenant.worker
    services.worker_set_status(worker=worker, status=WorkerProcess.Status.STARTING, pid=4321)
    worker.refresh_from_db()
    assert worker.pid == 4321
    assert worker.host
    assert worker.started_at is not None
    assert len(events(tenant, WorkerEvent.Kind.WORKER_STATUS)) == 1


def test_it_keeps_the_reason_of_a_worker_error(tenant):
    worker = tenant.worker
    services.worker_set_status(worker=worker, status=WorkerProcess.Status.ERROR, reason="chromium crashed")
    worker.refresh_from_db()
    assert worker.last_error == "chromium crashed"
    (event,) = events(tenant, WorkerEvent.Kind.WORKER_STATUS)
    assert (event.old_value, event.new_value) == ("STOPPED", "ERROR")


def test_it_clears_the_pid_when_a_worker_stops(tenant):
    worker = tenant.worker
    services.worker_set_status(worker=worker, status=WorkerProcess.Status.STARTING, pid=99)
    services.worker_set_status(worker=worker, status=WorkerProcess.Status.STOPPED, reason="SIGTERM")
    worker.refresh_from_db()
    assert worker.pid is None
    assert worker.stopped_at is not None
    assert len(events(tenant, WorkerEvent.Kind.WORKER_STATUS)) == 2


def test_it_records_one_event_per_session_state_change(tenant):
    session = tenant.session
    services.session_set_state(session=session, state=WhatsAppSession.State.CONNECTED, reason="ready")
    services.session_set_state(session=session, state=WhatsAppSession.State.CONNECTED, reason="ready")
    (event,) = events(tenant, WorkerEvent.Kind.SESSION_STATE)
    assert (event.old_value, event.new_value) == ("STOPPED", "CONNECTED")


def test_it_counts_qr_codes_and_keeps_the_value_out_of_the_timeline(tenant):
    session = tenant.session
    assert (
        services.session_record_qr(session=session, value="ref,a,b,c", data_uri="data:image/png;base64,AA")
        == 1
    )
    assert (
        services.session_record_qr(session=session, value="ref2,a,b,c", data_uri="data:image/png;base64,BB")
        == 2
    )
    session.refresh_from_db()
    assert (session.state, session.last_qr, session.qr_refresh_count) == ("QR", "ref2,a,b,c", 2)
    assert len(events(tenant, WorkerEvent.Kind.QR_ISSUED)) == 2
    assert len(events(tenant, WorkerEvent.Kind.SESSION_STATE)) == 1
    assert not WorkerEvent.objects.filter(reason__contains="ref").exists()


def test_it_forgets_the_qr_once_connected(tenant):
    session = tenant.session
    services.session_record_qr(session=session, value="ref,a,b,c", data_uri="data:image/png;base64,AA")
    services.session_set_state(session=session, state=WhatsAppSession.State.CONNECTED)
    session.refresh_from_db()
    assert (session.last_qr, session.last_qr_data_uri) == ("", "")


def test_it_heartbeats_without_writing_an_event(tenant):
    before = len(events(tenant))
    services.session_heartbeat(session=tenant.session)
    tenant.session.refresh_from_db()
    assert tenant.session.last_seen_at is not None
    assert len(events(tenant)) == before


def test_it_logs_a_message_once_however_often_it_is_seen(tenant):
    kwargs = dict(tenant=tenant, direction="IN", from_number="15551234567", to_number="me", text="hello")
    first, created = services.message_log_record(**kwargs, wa_message_id="false_1@c.us_AB")
    again, created_again = services.message_log_record(**kwargs, wa_message_id="false_1@c.us_AB")
    assert created and not created_again
    assert again.pk == first.pk
    assert MessageLog.objects.filter(tenant=tenant).count() == 1


def test_it_refuses_a_message_with_a_bad_direction(tenant):
    with pytest.raises(ValidationError):
        services.message_log_record(
            tenant=tenant, direction="SIDEWAYS", from_number="1", to_number="2", text="x"
        )
    assert not MessageLog.objects.exists()


def test_it_decides_a_setup_request_once_with_one_event(tenant, tenant_user, staff_user):
    request = services.setup_request_create(tenant=tenant, user=tenant_user, notes="please")
    services.setup_request_decide(
        setup_request=request, status=SetupRequest.Status.APPROVED, decided_by=staff_user
    )
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("APPROVED", staff_user)
    assert len(events(tenant, WorkerEvent.Kind.SETUP_REQUEST)) == 1
    with pytest.raises(ValidationError, match="cannot become REJECTED"):
        services.setup_request_decide(
            setup_request=request, status=SetupRequest.Status.REJECTED, decided_by=staff_user
        )
    request.refresh_from_db()
    assert request.status == "APPROVED"
    assert len(events(tenant, WorkerEvent.Kind.SETUP_REQUEST)) == 1


def test_it_refuses_a_setup_request_for_another_tenant(other_tenant, tenant_user):
    with pytest.raises(ValidationError):
        services.setup_request_create(tenant=other_tenant, user=tenant_user)
    assert not SetupRequest.objects.exists()
