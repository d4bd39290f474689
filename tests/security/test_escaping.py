"""HTML and JavaScript that tenants or their contacts send are shown as text, everywhere."""

import json

import pytest

from tenants import services
from tenants.logs.files import tenant_log_path
from workers.models import ReplyRule

PAYLOAD = "<script>alert('pwned')</script>"
ESCAPED = "&lt;script&gt;alert("


@pytest.fixture
def hostile(tenant, tenant_user, log_dir):
    tenant.name = f"Evil {PAYLOAD} Ltd"
    tenant.save(update_fields=["name"])
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="15551234567", to_number="", text=PAYLOAD
    )
    ReplyRule.objects.create(tenant=tenant, name=PAYLOAD, pattern="hi", reply_text=PAYLOAD)
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason=PAYLOAD)
    path = tenant_log_path(tenant.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"timestamp": "2026-11-29T10:00:00Z", "level": "ERROR", "message": PAYLOAD, "field": PAYLOAD}
        )
        + "\n"
    )
    return tenant


def assert_escaped(response) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(" not in page
    assert ESCAPED in page


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tenants/tenant/",
        "/admin/tenants/messagelog/",
        "/admin/workers/replyrule/",
        "/admin/tenants/workerprocess/",
        "/admin/tenants/workerevent/",
        "/admin/operations/",
        "/admin/tenants/tenant/{id}/logs/",
    ],
)
def test_staff_pages_show_hostile_text_escaped(client, staff_user, hostile, url):
    client.force_login(staff_user)
    assert_escaped(client.get(url.format(id=hostile.id)))


@pytest.mark.parametrize("url", ["/portal/", "/portal/messages/", "/portal/rules/", "/portal/history/"])
def test_portal_pages_show_hostile_text_escaped(client, tenant_user, hostile, url):
    client.force_login(tenant_user)
    assert_escaped(client.get(url))


def test_the_apis_return_it_as_data_not_markup(client, tenant_user, hostile, settings):
    client.force_login(tenant_user)
    response = client.get("/api/portal/tenant/current/logs")
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"][0]["message_text"] == PAYLOAD
