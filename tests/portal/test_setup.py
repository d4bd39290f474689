from django.urls import reverse

from tenants.models import SetupRequest
from tenants.services import setup_request_decide

URL = reverse("portal:setup")


def test_it_sends_a_setup_request_and_lists_it_with_its_status(owner, tenant, tenant_user):
    response = owner.post(URL, {"notes": "Please link our shop phone"}, follow=True)
    request = SetupRequest.objects.get()
    assert (request.tenant, request.user, request.status) == (tenant, tenant_user, "PENDING")
    body = response.content.decode()
    assert "we have your request" in body
    assert "Please link our shop phone" in body and "Pending" in body


def test_it_shows_a_decision_on_a_request(owner, tenant, tenant_user, staff_user):
    owner.post(URL, {"notes": "start it"})
    setup_request_decide(setup_request=SetupRequest.objects.get(), status="APPROVED", decided_by=staff_user)
    assert "Approved" in owner.get(URL).content.decode()


def test_it_refuses_notes_that_are_too_long(owner):
    response = owner.post(URL, {"notes": "x" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert not SetupRequest.objects.exists()


def test_it_shows_notes_escaped(owner):
    owner.post(URL, {"notes": "<script>alert(1)</script>"})
    body = owner.get(URL).content.decode()
    assert "&lt;script&gt;" in body
    assert "<script>alert" not in body
