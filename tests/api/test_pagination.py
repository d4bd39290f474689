"""Keyset pagination of message logs: every message once, however many arrive meanwhile."""

import pytest

from tenants import services
from tenants.models import MessageLog
from tests.helpers.api import as_user

URL = "/api/portal/tenant/current/logs"


def add(tenant, count: int, prefix: str) -> None:
    for i in range(count):
        services.message_log_record(
            tenant=tenant,
            direction="IN" if i % 2 else "OUT",
            from_number="15551230000",
            to_number="",
            text=f"{prefix} {i}",
        )


def test_the_cursor_walks_the_whole_log_once_while_messages_arrive(client, tenant_user, tenant, other_tenant):
    add(tenant, 95, "old")
    add(other_tenant, 10, "theirs")
    seen, cursor, pages = [], None, 0
    while True:
        query = f"{URL}?limit=10" + (f"&before={cursor}" if cursor else "")
        body = client.get(query, **as_user(tenant_user.email)).json()
        seen += [m["id"] for m in body["results"]]
        add(tenant, 2, f"new during page {pages}")  # arrive while paging: never shift a page
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    old = set(
        MessageLog.objects.filter(tenant=tenant, message_text__startswith="old").values_list("id", flat=True)
    )
    assert len(seen) == len(set(seen)) == 95
    assert {uuid for uuid in seen} == {str(i) for i in old}
    assert pages == 10


def test_it_filters_by_direction_and_searches_number_and_text(client, tenant_user, tenant):
    add(tenant, 6, "hello")
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="4915550009999", to_number="", text="guten Tag"
    )
    own = as_user(tenant_user.email)
    assert {m["direction"] for m in client.get(URL + "?direction=IN", **own).json()["results"]} == {"IN"}
    assert [m["message_text"] for m in client.get(URL + "?q=%2B49155", **own).json()["results"]] == [
        "guten Tag"
    ]
    assert [m["message_text"] for m in client.get(URL + "?q=GUTEN", **own).json()["results"]] == ["guten Tag"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: a whole number from 1 to 500"),
        ("limit=501", "limit: a whole number from 1 to 500"),
        ("limit=-5", "limit: a whole number from 1 to 500"),
        ("limit=ten", "limit: a whole number from 1 to 500"),
        ("limit=99999999999999999999", "limit: a whole number from 1 to 500"),
        ("before=garbage", "before: not a cursor this API gave out"),
        ("before=-1", "before: not a cursor this API gave out"),
        ("before=MjAyNi0xMS0yOVQxMDowMDowMHxub3QtYS11dWlk", "before: not a cursor this API gave out"),
        ("direction=SIDEWAYS", "direction: IN or OUT"),
        ("q=" + "x" * 101, "q: at most 100 characters"),
    ],
)
def test_bad_paging_values_are_400s_that_say_why(client, tenant_user, query, message):
    response = client.get(f"{URL}?{query}", **as_user(tenant_user.email))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)


def test_the_limit_defaults_to_50(client, tenant_user, tenant):
    add(tenant, 60, "m")
    body = client.get(URL, **as_user(tenant_user.email)).json()
    assert len(body["results"]) == 50 and body["next_cursor"]
