"""The portal API's pairing code: a tenant's program links its phone by number, not by QR."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants import services
from tenants.models import WhatsAppSession
from tests.helpers.api import as_user, bearer

URL = "/api/portal/tenant/current/link-code"


def session_of(tenant) -> WhatsAppSession:
    return WhatsAppSession.objects.get(tenant=tenant)


@pytest.fixture
def waiting_for_login(tenant) -> WhatsAppSession:
    session = session_of(tenant)
    services.session_record_qr(session=session, value="2@abc", data_uri="data:image/png;base64,AAAA")
    return session


def ask(client, key: str, phone: object):
    return client.post(URL, {"phone": phone}, content_type="application/json", **bearer(key))


def test_a_code_asked_for_is_given_once_whatsapp_answers(client, tenant, send_key, waiting_for_login):
    assert client.get(URL, **bearer(send_key)).json()["state"] == "none"

    response = ask(client, send_key, "+1 (555) 000-9999")
    assert response.status_code == 202
    assert response.json() | {"expires_at": None} == {
        "state": "asked",
        "phone": "15550009999",
        "code": "",
        "code_display": "",
        "expires_at": None,
        "expires_in_seconds": 0,
        "error": "",
    }
    status = client.get("/api/portal/tenant/current/status", **bearer(send_key)).json()
    assert status["session"]["link_code_state"] == "asked"

    services.session_record_link_code(
        session=waiting_for_login, code="ABCD1234", expires_at=timezone.now() + timedelta(seconds=195)
    )
    shown = client.get(URL, **bearer(send_key)).json()
    assert (shown["state"], shown["code"], shown["code_display"]) == ("shown", "ABCD1234", "ABCD-1234")
    assert 190 <= shown["expires_in_seconds"] <= 195


def test_an_expired_code_is_not_given_out(client, tenant, send_key, waiting_for_login):
    services.session_record_link_code(
        session=waiting_for_login, code="ABCD1234", expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = client.get(URL, **bearer(send_key)).json()
    assert (body["state"], body["code"]) == ("ended", "")
    assert "expired" in body["error"]


@pytest.mark.parametrize("phone", ["call me", "", "+12", "1" * 16, None, ["15550009999"]])
def test_a_bad_number_is_a_400_naming_the_field_and_nothing_is_asked(
    client, tenant, send_key, waiting_for_login, phone
):
    response = ask(client, send_key, phone)
    assert response.status_code == 400
    assert "phone" in response.json()
    assert session_of(tenant).link_phone == ""


@pytest.mark.parametrize(
    ("state", "words"), [("CONNECTED", "linked already"), ("STOPPED", "Start your bot first")]
)
def test_nothing_is_asked_when_no_login_is_awaited(client, tenant, send_key, state, words):
    services.session_set_state(session=session_of(tenant), state=state)
    response = ask(client, send_key, "+15550009999")
    assert response.status_code == 409
    assert words in response.json()["detail"]
    assert session_of(tenant).link_phone == ""


def test_a_read_only_key_may_look_but_not_ask(client, tenant, read_key, waiting_for_login):
    assert client.get(URL, **bearer(read_key)).status_code == 200
    response = ask(client, read_key, "+15550009999")
    assert response.status_code == 403
    assert session_of(tenant).link_phone == ""


def test_another_tenants_code_is_never_seen_nor_replaced(
    client, tenant, other_tenant, other_user, waiting_for_login
):
    services.session_record_link_code(
        session=waiting_for_login, code="ABCD1234", expires_at=timezone.now() + timedelta(minutes=3)
    )
    rival = as_user(other_user.email)
    assert client.get(URL, **rival).json()["state"] == "none"
    response = client.post(URL, {"phone": "+15550001111"}, content_type="application/json", **rival)
    assert response.status_code == 409  # their own session, which is not waiting for a login
    assert session_of(tenant).link_code == "ABCD1234"


def test_no_key_no_code(client, waiting_for_login):
    assert client.get(URL).status_code == 401
    assert client.post(URL, {"phone": "+15550009999"}, content_type="application/json").status_code == 401
    assert session_of(waiting_for_login.tenant).link_phone == ""


def test_a_front_end_asks_for_its_user_with_the_portal_key(client, tenant_user, waiting_for_login):
    response = client.post(
        URL, {"phone": "+15550009999"}, content_type="application/json", **as_user(tenant_user.email)
    )
    assert response.status_code == 202
    assert session_of(waiting_for_login.tenant).link_phone == "15550009999"


def test_a_suspended_account_is_not_linked_and_the_dashboard_does_not_offer_it(
    client, tenant, tenant_user, send_key, waiting_for_login
):
    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="unpaid")
    response = ask(client, send_key, "+15550009999")
    assert response.status_code == 409
    assert "suspended" in response.json()["detail"]
    assert session_of(tenant).link_phone == ""
    owner = Client()
    owner.force_login(tenant_user)
    assert "Link with your phone number instead" not in owner.get("/portal/").content.decode()
