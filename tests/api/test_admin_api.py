"""The admin API: staff only; every endpoint allowed for staff and denied for others."""

import json
import uuid

import pytest
from rest_framework.authtoken.models import Token

from tenants import services
from tenants.logs.files import tenant_log_path
from tenants.models import SetupRequest, Tenant

BASE = "/api/admin"


def paths(tenant: Tenant) -> list[str]:
    return [
        "/tenants",
        f"/tenants/{tenant.id}",
        f"/tenants/{tenant.id}/messages",
        f"/tenants/{tenant.id}/logs",
        f"/tenants/{tenant.id}/timeline",
        "/workers",
        "/setup-requests",
    ]


def test_it_answers_staff_on_every_endpoint(client, staff_user, tenant, log_dir):
    client.force_login(staff_user)
    for path in paths(tenant):
        assert client.get(BASE + path).status_code == 200, path


def test_it_refuses_anonymous_and_tenant_users(client, tenant_user, tenant):
    for path in paths(tenant):
        assert client.get(BASE + path).status_code in (401, 403), path
    client.force_login(tenant_user)
    for path in paths(tenant):
        assert client.get(BASE + path).status_code == 403, path
    assert client.post(f"{BASE}/tenants/{tenant.id}/worker/start").status_code == 403
    assert client.post(BASE + "/tenants", {"name": "x"}, content_type="application/json").status_code == 403


def test_it_takes_a_staff_token(client, staff_user, tenant):
    token = Token.objects.create(user=staff_user)
    assert client.get(BASE + "/tenants", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert client.get(BASE + "/tenants", HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_it_creates_lists_filters_and_updates_tenants(client, staff_user):
    client.force_login(staff_user)
    created = client.post(BASE + "/tenants", {"name": "New Shop"}, content_type="application/json")
    assert created.status_code == 201
    tenant_id = created.json()["id"]
    assert created.json()["worker_status"] == "STOPPED"
    changed = client.patch(
        f"{BASE}/tenants/{tenant_id}",
        {"status": "SUSPENDED", "name": "Renamed"},
        content_type="application/json",
    )
    assert (changed.json()["status"], changed.json()["name"]) == ("SUSPENDED", "Renamed")
    assert [t["name"] for t in client.get(BASE + "/tenants?status=SUSPENDED").json()] == ["Renamed"]
    assert client.get(BASE + "/tenants?status=BOGUS").status_code == 400
    assert (
        client.patch(
            f"{BASE}/tenants/{tenant_id}", {"status": "ERROR"}, content_type="application/json"
        ).status_code
        == 400
    )
    assert client.get(f"{BASE}/tenants/{uuid.uuid4()}").status_code == 404


def test_worker_actions_say_when_supervisord_is_unreachable(client, staff_user, tenant, settings, tmp_path):
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d"]
    client.force_login(staff_user)
    response = client.post(f"{BASE}/tenants/{tenant.id}/worker/start")
    assert response.status_code == 503
    assert f"unix://{tmp_path}/none.sock cannot be reached" in response.json()["detail"]
    assert client.post(f"{BASE}/tenants/{tenant.id}/worker/explode").status_code == 404


def test_it_reads_the_tenant_log_file_from_its_end_with_filters(client, staff_user, tenant, log_dir):
    path = tenant_log_path(tenant.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for i in range(300):
            level = "WARNING" if i % 10 == 0 else "INFO"
            handle.write(
                json.dumps(
                    {
                        "timestamp": f"2026-11-29T10:{i // 60:02d}:{i % 60:02d}.000Z",
                        "level": level,
                        "message": f"line {i}",
                    }
                )
                + "\n"
            )
    client.force_login(staff_user)
    lines = client.get(f"{BASE}/tenants/{tenant.id}/logs?lines=5").json()["lines"]
    assert [line["message"] for line in lines] == [f"line {i}" for i in range(295, 300)]
    warnings = client.get(f"{BASE}/tenants/{tenant.id}/logs?lines=3&level=WARNING").json()["lines"]
    assert [line["message"] for line in warnings] == ["line 270", "line 280", "line 290"]
    since = client.get(f"{BASE}/tenants/{tenant.id}/logs?lines=500&since=2026-11-29T10:04:50Z").json()[
        "lines"
    ]
    assert [line["message"] for line in since] == [f"line {i}" for i in range(290, 300)]
    for bad in ["lines=0", "lines=x", "level=LOUD", "since=yesterday", "since=99999999999h", "since=367d"]:
        assert client.get(f"{BASE}/tenants/{tenant.id}/logs?{bad}").status_code == 400, bad


def test_it_lists_the_timeline_and_decides_setup_requests(client, staff_user, tenant, tenant_user):
    request = services.setup_request_create(tenant=tenant, user=tenant_user)
    client.force_login(staff_user)
    timeline = client.get(f"{BASE}/tenants/{tenant.id}/timeline").json()
    assert timeline[-1]["reason"] == "created"
    approved = client.post(
        f"{BASE}/setup-requests/{request.id}/approve", {"notes": "ok"}, content_type="application/json"
    )
    assert approved.json()["status"] == "APPROVED"
    again = client.post(f"{BASE}/setup-requests/{request.id}/reject", {}, content_type="application/json")
    assert again.status_code == 409
    assert SetupRequest.objects.get().status == "APPROVED"
    assert client.get(BASE + "/setup-requests?status=APPROVED").json()[0]["user_email"] == "owner@acme.test"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_it_publishes_the_openapi_schema_and_page(client, path):
    response = client.get(path)
    assert response.status_code == 200


def test_the_schema_validates_and_describes_every_endpoint(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in [
        "/api/portal/tenant/current/logs:",
        "/api/portal/tenant/current/qr:",
        "/api/portal/tenant/current/link-code:",
        "/api/portal/webhooks/endpoints/{endpoint_id}/rotate-secret:",
        "/api/portal/webhooks/deliveries/{delivery_id}/replay:",
        "/api/portal/webhooks/replay:",
        "/api/admin/tenants/{tenant_id}/logs:",
        "/api/admin/tenants/{tenant_id}/worker/{action}:",
        "/api/admin/setup-requests/{request_id}/{decision}:",
    ]:
        assert path in schema, path
    assert "x-portal-key" in schema


def test_it_reads_rotated_log_files_too(client, staff_user, tenant, log_dir):
    path = tenant_log_path(tenant.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    rotated = path.with_name(f"{path.name}.20261129T100000000000")
    rotated.write_text(
        "".join(
            json.dumps({"timestamp": f"2026-11-29T09:00:0{i}Z", "level": "INFO", "message": f"old {i}"})
            + "\n"
            for i in range(3)
        )
    )
    path.write_text(
        json.dumps({"timestamp": "2026-11-29T10:00:00Z", "level": "INFO", "message": "new"}) + "\n"
    )
    client.force_login(staff_user)
    lines = client.get(f"{BASE}/tenants/{tenant.id}/logs?lines=3").json()["lines"]
    assert [line["message"] for line in lines] == ["old 1", "old 2", "new"]


def test_the_docs_page_loads_nothing_from_other_sites_and_runs_no_inline_script(client, db):
    page = client.get("/api/docs/")
    body = page.content.decode()
    assert "cdn" not in body.lower() and "//unpkg" not in body
    assert "swagger-ui" in body
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "<script>" not in body  # its start-up script is a file, as the policy needs
