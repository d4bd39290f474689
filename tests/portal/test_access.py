"""Who may open which portal page: the tenant's own users only, and only their own data."""

import pytest
from django.test import Client
from django.urls import reverse

from tenants import services
from tenants.models import MessageLog, SetupRequest
from workers import services as worker_services
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue

PAGES = ["dashboard", "messages", "send", "rules", "rule_create", "history", "setup"]


@pytest.fixture
def rule(tenant) -> ReplyRule:
    return worker_services.reply_rule_create(
        tenant=tenant, name="Opening hours", pattern="hours", reply_text="We open at 8"
    )


@pytest.fixture
def acme_data(tenant, tenant_user, rule) -> dict:
    """Something of the tenant's on every page."""
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="15551234567", to_number="", text="Are you open on Sunday?"
    )
    outbound_enqueue(tenant=tenant, to_number="15557654321", text="Your cake is ready", source="PORTAL")
    services.setup_request_create(tenant=tenant, user=tenant_user, notes="Link our second shop")
    services.worker_record_error(worker=tenant.worker, reason="logged out from the phone")
    return {
        "messages": "Are you open on Sunday?",
        "send": "Your cake is ready",
        "rules": "We open at 8",
        "setup": "Link our second shop",
        "dashboard": "Acme Bakery",
        "history": "This device was logged out from your phone.",
        "rule_create": "Acme Bakery",
    }


@pytest.mark.parametrize("page", PAGES)
def test_it_shows_each_page_to_the_tenants_own_user(owner, acme_data, page):
    response = owner.get(reverse(f"portal:{page}"))
    assert response.status_code == 200
    assert acme_data[page] in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, db, page):
    url = reverse(f"portal:{page}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next={url}"


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_staff_to_the_admin(client, staff_user, page):
    client.force_login(staff_user)
    response = client.get(reverse(f"portal:{page}"))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("page", ["rule_edit", "rule_delete"])
def test_it_sends_anonymous_visitors_and_staff_away_from_a_rule(client, staff_user, rule, page):
    url = reverse(f"portal:{page}", args=[rule.id])
    assert client.get(url)["Location"].startswith(reverse("portal:login"))
    client.force_login(staff_user)
    assert client.get(url)["Location"] == "/admin/"


@pytest.mark.parametrize("page", ["messages", "send", "rules", "setup", "dashboard", "history"])
def test_it_never_shows_another_tenants_data(intruder, acme_data, page):
    response = intruder.get(reverse(f"portal:{page}"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Other Florist" in body
    for secret in acme_data.values():  # the tenant's name included
        assert secret not in body
    if page == "dashboard":
        assert 'data-field="problem">None<' in body
        assert 'data-peer="15551234567"' not in body


@pytest.mark.parametrize("page", ["rule_edit", "rule_delete"])
def test_it_does_not_find_another_tenants_rule_to_open(intruder, rule, page):
    assert intruder.get(reverse(f"portal:{page}", args=[rule.id])).status_code == 404


def test_it_leaves_another_tenants_rule_alone_whatever_is_posted(intruder, rule):
    edit = intruder.post(
        reverse("portal:rule_edit", args=[rule.id]),
        {"name": "Hacked", "match_type": "KEYWORD", "pattern": "x", "reply_text": "pwned", "priority": 1},
    )
    toggle = intruder.post(reverse("portal:rule_toggle", args=[rule.id]), {"enabled": "0"})
    delete = intruder.post(reverse("portal:rule_delete", args=[rule.id]))
    assert (edit.status_code, toggle.status_code, delete.status_code) == (404, 404, 404)
    rule.refresh_from_db()
    assert (rule.name, rule.reply_text, rule.enabled) == ("Opening hours", "We open at 8", True)


def test_it_keeps_what_another_tenant_sends_or_asks_in_their_own_tenant(
    intruder, other_tenant, tenant, acme_data
):
    intruder.post(reverse("portal:send"), {"to_number": "+15550001111", "text": "hello", "token": "a" * 32})
    intruder.post(reverse("portal:setup"), {"notes": "please", "tenant": str(tenant.id)})
    intruder.post(
        reverse("portal:rule_create"),
        {
            "name": "r",
            "match_type": "KEYWORD",
            "pattern": "p",
            "reply_text": "t",
            "priority": 5,
            "tenant": str(tenant.id),
        },
    )
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1
    assert SetupRequest.objects.filter(tenant=tenant).count() == 1
    assert ReplyRule.objects.filter(tenant=tenant).count() == 1
    assert OutboundMessage.objects.filter(tenant=other_tenant).count() == 1
    assert SetupRequest.objects.filter(tenant=other_tenant).count() == 1
    assert ReplyRule.objects.filter(tenant=other_tenant).count() == 1


def test_it_finds_no_other_tenants_messages_by_search(intruder, acme_data):
    body = intruder.get(reverse("portal:messages"), {"q": "1555"}).content.decode()
    assert "Are you open on Sunday?" not in body
    assert MessageLog.objects.count() == 1


def test_it_logs_out_on_post_only(owner):
    assert owner.get(reverse("portal:logout")).status_code == 405
    response = owner.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:login")
    assert owner.get(reverse("portal:dashboard")).status_code == 302


def test_it_refuses_every_form_posted_without_its_csrf_token(tenant_user, rule):
    strict = Client(
        enforce_csrf_checks=True,
        **{"wsgi.url_scheme": "https", "SERVER_PORT": "443", "HTTP_X_FORWARDED_PROTO": "https"},
    )
    strict.force_login(tenant_user)
    for url in [
        reverse("portal:send"),
        reverse("portal:rule_create"),
        reverse("portal:rule_edit", args=[rule.id]),
        reverse("portal:rule_toggle", args=[rule.id]),
        reverse("portal:rule_delete", args=[rule.id]),
        reverse("portal:setup"),
        reverse("portal:logout"),
    ]:
        assert strict.post(url, {"enabled": "0"}).status_code == 403, url
    assert ReplyRule.objects.get(pk=rule.pk).enabled is True
