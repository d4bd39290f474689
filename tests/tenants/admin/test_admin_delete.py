"""Deleting a tenant from the admin: what the confirmation names, and what goes on confirm."""

import logging
from pathlib import Path

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from tenants import services
from tenants.api_keys import api_key_create
from tenants.models import (
    Alert,
    Incident,
    MessageLog,
    SetupRequest,
    Tenant,
    TenantApiKey,
    User,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
)
from tests.helpers.processes import Supervisord, alive, chromium_processes_using, wait_until
from tests.helpers.workers import current_qr
from tests.workers.conftest import simulator, start_simulator, start_supervisord, supervisord, worker_env  # noqa: F401
from workers import orchestration
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue

TENANT_MODELS = [
    MessageLog,
    WorkerEvent,
    OutboundMessage,
    ReplyRule,
    User,
    TenantApiKey,
    SetupRequest,
    Incident,
    Alert,
    WorkerProcess,
    WhatsAppSession,
]


def delete_url(tenant: Tenant) -> str:
    return reverse("admin:tenants_tenant_delete", args=[tenant.pk])


def populate(tenant: Tenant, email: str) -> None:
    """Three messages, one answered, and a row in every table that has the tenant's id."""
    user = services.user_create_tenant_user(tenant=tenant, email=email, password="pw-123456")
    first = None
    for n in range(3):
        row, _ = services.message_log_record(
            tenant=tenant,
            direction="IN",
            from_number="15551234567",
            to_number="",
            text=f"private body {n}",
            wa_message_id=f"wa-{n}",
        )
        first = first or row
    outbound_enqueue(tenant=tenant, to_number="15551234567", text="a reply", in_reply_to=first)
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8")
    api_key_create(tenant=tenant, name="shop", scope="READ", created_by=user)
    services.setup_request_create(tenant=tenant, user=user)
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="crashed")  # an incident


def make_files(tenant: Tenant, log_dir: Path, sessions_dir: Path) -> list[Path]:
    paths = [
        log_dir / f"{tenant.id}.log",
        log_dir / f"{tenant.id}.log.20261129T145500",
        log_dir / "supervisor" / f"wa-worker-{tenant.id}.out.log",
        log_dir / str(tenant.id) / "selector-chat_list-20261129T145500.png",
        sessions_dir / str(tenant.id) / "Default" / "Cookies",
    ]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    return paths


def rows_of(tenant_id: object) -> dict[str, int]:
    counts = {model.__name__: model.objects.filter(tenant_id=tenant_id).count() for model in TENANT_MODELS}
    return {**counts, "Tenant": Tenant.objects.filter(pk=tenant_id).count()}


@pytest.fixture
def dirs(settings, tmp_path: Path) -> tuple[Path, Path]:
    settings.LOG_DIR = tmp_path / "logs"
    settings.SESSIONS_DIR = tmp_path / "sessions"
    return settings.LOG_DIR, settings.SESSIONS_DIR


@pytest.fixture
def reachable(supervisord, worker_env, settings) -> Supervisord:  # noqa: F811
    """A real supervisord that answers, sharing its LOG_DIR and SESSIONS_DIR with the test."""
    settings.SESSIONS_DIR = Path(worker_env["SESSIONS_DIR"])
    return supervisord


# --- The confirmation ------------------------------------------------------------------------


def test_it_names_the_rows_and_files_that_go_on_the_confirmation_page(
    client, staff_user, tenant, other_tenant, dirs
):
    populate(tenant, "owner@acme.test")
    make_files(tenant, *dirs)
    make_files(other_tenant, *dirs)
    client.force_login(staff_user)

    response = client.get(delete_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "permission" not in html
    for label, count in [
        ("messages", 3),
        ("outbound messages", 1),
        ("users", 1),
        ("API keys", 1),
        ("reply rules", 1),
        ("incidents", 1),
    ]:
        assert f'<th scope="row">{label}</th><td data-count="{label}">{count}</td>' in html
    events = WorkerEvent.objects.filter(tenant=tenant).count()
    assert f'<td data-count="timeline events">{events}</td>' in html
    log_dir, sessions_dir = dirs
    assert f"log file: <code>{log_dir / f'{tenant.id}.log'}</code>" in html
    assert f"rotated log file: <code>{log_dir / f'{tenant.id}.log.20261129T145500'}</code>" in html
    assert f"screenshots and page sources: <code>{log_dir / str(tenant.id)}</code>" in html
    assert f"browser profile: <code>{sessions_dir / str(tenant.id)}</code>" in html
    assert str(other_tenant.id) not in html
    assert 'value="Yes, delete this tenant and all its data"' in html


def test_it_offers_no_bulk_delete_of_tenants(client, staff_user, tenant):
    client.force_login(staff_user)
    html = client.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    assert "Start the selected workers" in html
    assert 'value="delete_selected"' not in html


# --- Deleting ----------------------------------------------------------------------------------


def test_it_deletes_the_tenants_rows_and_files_and_nothing_of_another_tenant(
    client, staff_user, tenant, other_tenant, reachable, settings, caplog
):
    log_dir, sessions_dir = Path(settings.LOG_DIR), Path(settings.SESSIONS_DIR)
    populate(tenant, "owner@acme.test")
    populate(other_tenant, "owner@florist.test")
    own_files = make_files(tenant, log_dir, sessions_dir)
    other_files = make_files(other_tenant, log_dir, sessions_dir)
    other_rows = rows_of(other_tenant.id)
    client.force_login(staff_user)

    with caplog.at_level(logging.INFO, logger="workers.deletion"):
        response = client.post(delete_url(tenant), {"post": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:tenants_tenant_changelist")
    assert "Acme Bakery and all its data were deleted." in response.content.decode()
    assert set(rows_of(tenant.id).values()) == {0}
    assert not [path for path in own_files if path.exists()]
    assert not (log_dir / str(tenant.id)).exists()
    assert not (sessions_dir / str(tenant.id)).exists()
    assert rows_of(other_tenant.id) == other_rows
    assert all(path.exists() for path in other_files)
    assert LogEntry.objects.filter(object_id=str(tenant.id), action_flag=DELETION).count() == 1
    (line,) = [r for r in caplog.records if r.getMessage() == "tenant deleted"]
    assert line.tenant_id == str(tenant.id)
    assert line.rows["tenants.MessageLog"] == 3
    assert line.rows["workers.OutboundMessage"] == 1
    assert "private body" not in str(line.__dict__)
    assert "owner@acme.test" not in str(line.__dict__)


def test_it_refuses_and_deletes_nothing_when_supervisord_cannot_be_reached(
    client, staff_user, tenant, dirs, settings, tmp_path
):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/missing.sock#{tmp_path}/conf.d"]
    populate(tenant, "owner@acme.test")
    files = make_files(tenant, *dirs)
    before = rows_of(tenant.id)
    client.force_login(staff_user)

    response = client.post(delete_url(tenant), {"post": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:tenants_tenant_change", args=[tenant.pk])
    html = response.content.decode()
    assert "Acme Bakery was not deleted: its worker can&#x27;t be stopped" in html
    assert f"supervisord at unix://{tmp_path}/missing.sock cannot be reached" in html
    assert rows_of(tenant.id) == before
    assert all(path.exists() for path in files)


# --- Who may -----------------------------------------------------------------------------------


def test_it_sends_tenant_users_to_the_login_and_deletes_nothing(client, tenant, tenant_user, dirs):
    client.force_login(tenant_user)
    for response in (client.get(delete_url(tenant)), client.post(delete_url(tenant), {"post": "yes"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    assert Tenant.objects.filter(pk=tenant.pk).exists()


def test_it_refuses_staff_without_the_delete_permission(client, tenant, dirs):
    clerk = User.objects.create_user("clerk@platform.test", "pw-123456", role=User.Role.STAFF)
    client.force_login(clerk)
    assert client.get(delete_url(tenant)).status_code == 403
    assert client.post(delete_url(tenant), {"post": "yes"}).status_code == 403
    assert Tenant.objects.filter(pk=tenant.pk).exists()


# --- With a worker running ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_it_stops_a_running_worker_before_deleting_its_tenant(
    client, staff_user, tenant, reachable, settings
):
    orchestration.worker_start(tenant=tenant, by="test")
    wait_until(lambda: current_qr(tenant), what="a QR code")
    pid = WorkerProcess.objects.get(tenant=tenant).pid
    profile = Path(settings.SESSIONS_DIR) / str(tenant.id)
    log = Path(settings.LOG_DIR) / f"{tenant.id}.log"
    assert profile.is_dir() and log.is_file()
    client.force_login(staff_user)

    response = client.post(delete_url(tenant), {"post": "yes"})

    assert response.status_code == 302
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert reachable.rpc().getAllProcessInfo() == []
    assert not alive(pid)
    assert chromium_processes_using(profile) == []
    assert not profile.exists()
    assert not log.exists()
    assert not list((Path(settings.LOG_DIR) / "supervisor").glob(f"wa-worker-{tenant.id}.*"))
