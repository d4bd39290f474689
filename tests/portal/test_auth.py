import re

from django.core import mail
from django.urls import reverse


def test_it_logs_a_tenant_user_in_by_email_and_opens_the_dashboard(client, tenant_user):
    page = client.get(reverse("portal:login"))
    assert 'type="email"' in page.content.decode()
    assert "Email" in page.content.decode()
    response = client.post(
        reverse("portal:login"),
        {"username": "OWNER@acme.test", "password": "correct horse battery"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("portal:dashboard")
    assert "Acme Bakery" in response.content.decode()


def test_it_says_plainly_when_the_password_is_wrong(client, tenant_user):
    response = client.post(reverse("portal:login"), {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "don&#x27;t match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_returns_to_the_page_asked_for_after_login(client, tenant_user):
    response = client.post(
        reverse("portal:login") + "?next=/portal/rules/",
        {"username": "owner@acme.test", "password": "correct horse battery", "next": "/portal/rules/"},
    )
    assert response["Location"] == "/portal/rules/"


def test_it_sends_staff_who_log_in_here_on_to_the_admin(client, staff_user):
    response = client.post(
        reverse("portal:login"),
        {"username": "staff@platform.test", "password": "staff pass phrase"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/"


def test_it_resets_a_forgotten_password_through_an_emailed_link(client, tenant_user):
    response = client.post(reverse("portal:password_reset"), {"email": "owner@acme.test"}, follow=True)
    assert "Check your email" in response.content.decode()
    (email,) = mail.outbox
    assert email.to == ["owner@acme.test"]
    link = re.search(r"https?://\S+", email.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get(f"/{path}", follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new secret", "new_password2": "a brand new secret"},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()
    assert client.login(username="owner@acme.test", password="a brand new secret")


def test_it_sends_no_email_for_an_unknown_address_but_says_the_same(client, tenant_user):
    response = client.post(reverse("portal:password_reset"), {"email": "nobody@acme.test"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
