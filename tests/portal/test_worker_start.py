"""The dashboard's "Show a new code" button: a tenant user starts their own bot again."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from tenants import services
from tenants.models import WhatsAppSession, WorkerEvent, WorkerProcess
from tests.helpers.processes import wait_until
from workers import orchestration

URL = reverse("portal:worker_start")
HTTPS = {"wsgi.url_scheme": "https", "SERVER_PORT": "443", "HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def no_supervisord(settings, tmp_path) -> None:
    settings.WORKER_HOSTS = [f"unix://{tmp_path}/missing.sock#{tmp_path}/conf.d"]


def commands(tenant) -> list[str]:
    return list(WorkerEvent.objects.filter(tenant=tenant, kind="COMMAND").values_list("reason", flat=True))


def test_it_says_plainly_when_the_bot_cannot_be_started_now(owner, tenant, no_supervisord, tmp_path):
    page = owner.post(URL, follow=True)
    assert page.redirect_chain == [(reverse("portal:dashboard"), 302)]
    body = page.content.decode()
    assert "We could not start your bot just now" in body
    assert str(tmp_path) not in body and "supervisord" not in body
    assert WorkerProcess.objects.get(tenant=tenant).status == "STOPPED"
    assert commands(tenant) == []


def test_it_refuses_to_start_a_suspended_account(owner, tenant, monkeypatch):
    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="suspended by staff@x.test")
    monkeypatch.setattr(orchestration, "worker_start", lambda **kwargs: pytest.fail("started"))
    body = html.unescape(owner.post(URL, follow=True).content.decode())
    assert "This account is suspended, so your bot can't be started." in body


def test_it_starts_only_the_signed_in_users_own_tenant(intruder, tenant, other_tenant, monkeypatch):
    started = []
    monkeypatch.setattr(orchestration, "worker_start", lambda *, tenant, by: started.append((tenant.pk, by)))
    intruder.post(URL, {"tenant": str(tenant.pk), "tenant_id": str(tenant.pk)})
    assert started == [(other_tenant.pk, "owner@florist.test")]


def test_it_sends_anonymous_visitors_to_the_login_page(client, tenant, monkeypatch):
    monkeypatch.setattr(orchestration, "worker_start", lambda **kwargs: pytest.fail("started"))
    response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_it_sends_staff_to_the_admin(client, staff_user, monkeypatch):
    monkeypatch.setattr(orchestration, "worker_start", lambda **kwargs: pytest.fail("started"))
    client.force_login(staff_user)
    assert client.post(URL)["Location"] == "/admin/"


def test_it_starts_on_post_only(owner, monkeypatch):
    monkeypatch.setattr(orchestration, "worker_start", lambda **kwargs: pytest.fail("started"))
    assert owner.get(URL).status_code == 405


def test_it_refuses_a_post_without_its_csrf_token(tenant_user, monkeypatch):
    monkeypatch.setattr(orchestration, "worker_start", lambda **kwargs: pytest.fail("started"))
    strict = Client(enforce_csrf_checks=True, **HTTPS)
    strict.force_login(tenant_user)
    assert strict.post(URL).status_code == 403


@pytest.mark.browser
@pytest.mark.slow
def test_it_starts_the_bot_under_supervisord_and_shows_a_code(owner, tenant, supervisord):
    page = owner.post(URL, follow=True).content.decode()
    assert "Starting your bot: a code to scan appears here in a few seconds." in page
    assert commands(tenant) == [
        f"start by owner@acme.test on {orchestration.worker_status(tenant=tenant).host}"
    ]
    assert orchestration.worker_status(tenant=tenant).supervisor.running
    wait_until(lambda: WhatsAppSession.objects.get(tenant=tenant).state == "QR", what="a code")
    assert "Scan the QR code with your phone" in owner.get(reverse("portal:dashboard")).content.decode()
    orchestration.worker_stop(tenant=tenant, by="test")
