"""Each sign-in door resets only its own accounts: tenant users in the portal, staff in the admin."""

import re

from django.core import mail
from django.urls import reverse


def reset_link_path(body: str) -> str:
    link = re.search(r"https?://\S+", body).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_the_portal_sends_no_reset_link_to_staff_but_says_the_same(client, staff_user):
    response = client.post(reverse("portal:password_reset"), {"email": staff_user.email}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_the_admin_links_its_own_reset_and_resets_staff(client, staff_user):
    login = client.get("/admin/login/").content.decode()
    assert 'href="/admin/password_reset/"' in login
    client.post("/admin/password_reset/", {"email": staff_user.email})
    (email,) = mail.outbox
    path = reset_link_path(email.body)
    assert path.startswith("/admin/reset/")
    form = client.get(path, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new staff secret", "new_password2": "a brand new staff secret"},
        follow=True,
    )
    assert done.status_code == 200
    assert client.login(username=staff_user.email, password="a brand new staff secret")


def test_the_admin_sends_no_reset_link_to_a_tenant_user(client, tenant_user):
    response = client.post("/admin/password_reset/", {"email": tenant_user.email}, follow=True)
    assert response.status_code == 200
    assert mail.outbox == []
