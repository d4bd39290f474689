"""Linking by phone number on the dashboard: ask for a pairing code, see it, only your own."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants import services
from tenants.models import WhatsAppSession

DASHBOARD = reverse("portal:dashboard")
LINK = reverse("portal:link_code")


def session_of(tenant) -> WhatsAppSession:
    return WhatsAppSession.objects.get(tenant=tenant)


@pytest.fixture
def waiting_for_login(tenant) -> WhatsAppSession:
    """The worker shows a QR code: a login is awaited."""
    session = session_of(tenant)
    services.session_record_qr(session=session, value="2@abc", data_uri="data:image/png;base64,AAAA")
    return session


def test_the_dashboard_offers_a_pairing_code_while_a_login_is_awaited(owner, tenant, waiting_for_login):
    body = owner.get(DASHBOARD).content.decode()
    assert "Link with your phone number instead" in body
    assert f'action="{LINK}"' in body


def test_it_is_not_offered_once_linked(owner, tenant, waiting_for_login):
    services.session_set_state(session=waiting_for_login, state="CONNECTED")
    assert "Link with your phone number instead" not in owner.get(DASHBOARD).content.decode()


def test_asking_for_a_code_says_so_until_whatsapp_gives_it_then_shows_it(owner, tenant, waiting_for_login):
    response = owner.post(LINK, {"phone": "+1 555 000 9999"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [(DASHBOARD, 302)]
    assert "WhatsApp is making your pairing code" in body
    assert "Asking WhatsApp for a pairing code for +15550009999" in body
    assert session_of(tenant).link_phone == "15550009999"

    # What the worker writes when WhatsApp answers.
    expires = timezone.now() + timedelta(minutes=3)
    services.session_record_link_code(session=waiting_for_login, code="ABCD1234", expires_at=expires)
    body = owner.get(DASHBOARD).content.decode()
    assert "ABCD-1234" in body
    assert timezone.localtime(expires).strftime("%H:%M") in body
    assert "Ask for a new code" in body


def test_an_expired_code_says_so_and_can_be_asked_for_again(owner, tenant, waiting_for_login):
    services.session_request_link_code(session=waiting_for_login, phone="15550009999")
    services.session_end_link_code(
        session=waiting_for_login, reason="The pairing code expired; ask for a new one."
    )
    body = owner.get(DASHBOARD).content.decode()
    assert "The pairing code expired; ask for a new one." in body
    assert "Get a pairing code" in body


def test_a_number_that_is_not_one_is_refused_beside_the_field_and_nothing_is_asked(
    owner, tenant, waiting_for_login
):
    response = owner.post(LINK, {"phone": "call me"})
    assert response.status_code == 400
    assert "A phone number is 7 to 15 digits" in response.content.decode()
    assert session_of(tenant).link_phone == ""


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("CONNECTED", "linked already"),
        ("STOPPED", "Start your bot first"),
        ("BLOCKED", "Start your bot first"),
    ],
)
def test_no_code_is_asked_for_when_nothing_awaits_a_login(owner, tenant, state, words):
    services.session_set_state(session=session_of(tenant), state=state)
    response = owner.post(LINK, {"phone": "+15550009999"})
    assert response.status_code == 409
    assert words in response.content.decode()
    assert session_of(tenant).link_phone == ""


def test_another_tenants_code_is_never_shown_nor_asked_for(intruder, tenant, other_tenant, waiting_for_login):
    services.session_record_link_code(
        session=waiting_for_login, code="ABCD1234", expires_at=timezone.now() + timedelta(minutes=3)
    )
    assert "ABCD-1234" not in intruder.get(DASHBOARD).content.decode()
    # What the intruder posts reaches their own (stopped) session only.
    assert intruder.post(LINK, {"phone": "+15550001111", "tenant": str(tenant.id)}).status_code == 409
    assert session_of(tenant).link_code == "ABCD1234"
    assert session_of(other_tenant).link_phone == ""


def test_anonymous_visitors_are_sent_to_sign_in_and_staff_to_the_admin(client, staff_user, waiting_for_login):
    response = client.post(LINK, {"phone": "+15550009999"})
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]
    client.force_login(staff_user)
    assert client.post(LINK, {"phone": "+15550009999"}).status_code == 302
    assert session_of(waiting_for_login.tenant).link_phone == ""


def test_it_refuses_a_post_without_its_csrf_token(tenant_user, tenant, waiting_for_login):
    strict = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")
    strict.force_login(tenant_user)
    assert strict.post(LINK, {"phone": "+15550009999"}).status_code == 403
    assert session_of(tenant).link_phone == ""


def test_only_post_asks(owner, waiting_for_login):
    assert owner.get(LINK).status_code == 405
