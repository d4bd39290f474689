"""A tenant's log file in the admin: the last lines across rotated files, filtered, escaped."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from tenants.logs.files import tenant_log_files
from tenants.models import Tenant


def url(tenant_id: uuid.UUID, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/admin/tenants/tenant/{tenant_id}/logs/" + (f"?{query}" if query else "")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_log(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def record(n: int, at: datetime, level: str = "INFO", **fields: object) -> dict:
    return {
        "timestamp": stamp(at),
        "level": level,
        "logger": "workers.runtime",
        "message": f"line {n:04d}",
        **fields,
    }


def shown(html: str) -> list[str]:
    return re.findall(r'<td class="log-message">(line \d{4})', html)


@pytest.fixture
def signed_in(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def rotated_history(tenant: Tenant, log_dir: Path) -> datetime:
    """Lines 1-230 a minute apart: 100 in the oldest rotated file, 100 in the newer, 30 current."""
    start = datetime.now(UTC) - timedelta(minutes=240)
    lines = [record(n, start + timedelta(minutes=n)) for n in range(1, 231)]
    write_log(log_dir / f"{tenant.id}.log.20261128T090000", lines[:100])
    write_log(log_dir / f"{tenant.id}.log.20261129T145500", lines[100:200])
    write_log(log_dir / f"{tenant.id}.log", lines[200:])
    return start


# --- Access --------------------------------------------------------------------------------------


def test_it_shows_the_log_to_staff(signed_in, tenant, log_dir):
    write_log(log_dir / f"{tenant.id}.log", [record(1, datetime.now(UTC))])
    response = signed_in.get(url(tenant.id))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Log of Acme Bakery" in html
    assert shown(html) == ["line 0001"]


def test_it_sends_anonymous_users_to_the_admin_login(client, tenant):
    response = client.get(url(tenant.id))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_it_sends_tenant_users_to_the_admin_login(client, tenant_user, tenant):
    client.force_login(tenant_user)
    response = client.get(url(tenant.id))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_it_answers_404_for_an_unknown_tenant(signed_in, db, log_dir):
    assert signed_in.get(url(uuid.uuid4())).status_code == 404


def test_it_is_linked_from_the_tenant_change_page(signed_in, tenant):
    html = signed_in.get(reverse("admin:tenants_tenant_change", args=[tenant.id])).content.decode()
    assert f'<a href="{url(tenant.id)}">Logs</a>' in html


# --- Reading across rotated files --------------------------------------------------------------


def test_it_shows_the_last_200_lines_across_rotated_files_newest_last(signed_in, tenant, rotated_history):
    html = signed_in.get(url(tenant.id)).content.decode()
    assert shown(html) == [f"line {n:04d}" for n in range(31, 231)]
    assert f"{tenant.id}.log</code>, <code>{tenant.id}.log.20261129T145500</code>" in html


def test_it_shows_the_number_of_lines_asked_for(signed_in, tenant, rotated_history):
    assert shown(signed_in.get(url(tenant.id, lines="50")).content.decode()) == [
        f"line {n:04d}" for n in range(181, 231)
    ]
    assert len(shown(signed_in.get(url(tenant.id, lines="1000")).content.decode())) == 230


def test_it_reads_only_the_tenants_own_rotated_files(signed_in, tenant, other_tenant, log_dir):
    now = datetime.now(UTC)
    write_log(log_dir / f"{tenant.id}.log", [record(2, now)])
    write_log(log_dir / f"{tenant.id}.log.20261129T145500", [record(1, now - timedelta(minutes=1))])
    write_log(log_dir / f"{tenant.id}.log.bak", [record(9, now)])
    write_log(log_dir / f"{other_tenant.id}.log.20261129T145600", [record(8, now)])
    assert shown(signed_in.get(url(tenant.id)).content.decode()) == ["line 0001", "line 0002"]


def test_it_lists_rotated_files_newest_first_after_the_current_one(tenant, log_dir):
    for name in ["20261127T000000", "20261129T145500123456", "20261129T145500", "20261128T235959"]:
        write_log(log_dir / f"{tenant.id}.log.{name}", [])
    assert [path.name.removeprefix(f"{tenant.id}.log") for path in tenant_log_files(tenant.id)] == [
        "",
        ".20261129T145500123456",
        ".20261129T145500",
        ".20261128T235959",
        ".20261127T000000",
    ]


def test_it_says_when_there_is_no_log_file_yet(signed_in, tenant, log_dir):
    html = signed_in.get(url(tenant.id)).content.decode()
    assert "No log file yet" in html


# --- Filters -------------------------------------------------------------------------------------


def test_it_filters_by_minimum_level(signed_in, tenant, log_dir):
    now = datetime.now(UTC)
    write_log(
        log_dir / f"{tenant.id}.log",
        [
            record(1, now, "DEBUG"),
            record(2, now, "INFO"),
            record(3, now, "WARNING"),
            record(4, now, "ERROR"),
            record(5, now, "CRITICAL"),
        ],
    )
    html = signed_in.get(url(tenant.id, level="WARNING")).content.decode()
    assert shown(html) == ["line 0003", "line 0004", "line 0005"]
    assert '<span class="badge badge-warn">WARNING</span>' in html
    assert '<span class="badge badge-bad">ERROR</span>' in html
    assert shown(signed_in.get(url(tenant.id, level="error")).content.decode()) == ["line 0004", "line 0005"]


def test_it_searches_the_message_and_fields(signed_in, tenant, log_dir):
    now = datetime.now(UTC)
    write_log(
        log_dir / f"{tenant.id}.log",
        [record(1, now), record(2, now, selector="#pane-side"), record(3, now, message="chat list missing")],
    )
    assert shown(signed_in.get(url(tenant.id, q="PANE-side")).content.decode()) == ["line 0002"]
    html = signed_in.get(url(tenant.id, q="list missing")).content.decode()
    assert "chat list missing" in html
    assert "line 0001" not in html


def test_it_shows_only_lines_since_the_age_asked_for(signed_in, tenant, log_dir):
    now = datetime.now(UTC)
    write_log(
        log_dir / f"{tenant.id}.log.20261129T145500",
        [record(1, now - timedelta(days=2)), record(2, now - timedelta(hours=3))],
    )
    write_log(log_dir / f"{tenant.id}.log", [record(3, now - timedelta(minutes=50)), record(4, now)])
    assert shown(signed_in.get(url(tenant.id, since="1h")).content.decode()) == ["line 0003", "line 0004"]
    assert shown(signed_in.get(url(tenant.id, since="24h")).content.decode()) == [
        "line 0002",
        "line 0003",
        "line 0004",
    ]
    assert len(shown(signed_in.get(url(tenant.id, since="7d")).content.decode())) == 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lines": "7"}, "Lines: choose 50, 200 or 1000; got 7"),
        ({"lines": "lots"}, "Lines: choose 50, 200 or 1000; got lots"),
        ({"level": "LOUD"}, "Minimum level: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"since": "yesterday"}, "Since: an age like 15m, 1h, 24h or 7d"),
        ({"since": "999999d"}, "Since: at most 366d"),
        ({"q": "x" * 201}, "Search: Ensure this value has at most 200 characters"),
    ],
)
def test_it_refuses_bad_parameters_with_a_message(signed_in, tenant, log_dir, params, message):
    write_log(log_dir / f"{tenant.id}.log", [record(1, datetime.now(UTC))])
    response = signed_in.get(url(tenant.id, **params))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert shown(html) == []


# --- Each line -----------------------------------------------------------------------------------


def test_it_shows_time_level_logger_message_and_fields_escaped(signed_in, tenant, log_dir):
    at = datetime(2026, 11, 29, 14, 55, 0, 754000, tzinfo=UTC)
    write_log(
        log_dir / f"{tenant.id}.log",
        [
            {
                "timestamp": stamp(at),
                "level": "ERROR",
                "logger": "workers.whatsapp",
                "message": "<script>alert(1)</script>",
                "tenant_id": str(tenant.id),
                "selector": "<b>#pane-side</b>",
                "attempt": 3,
                "exc_info": 'Traceback (most recent call last):\n  RuntimeError: "boom"',
            }
        ],
    )
    html = signed_in.get(url(tenant.id)).content.decode()
    assert '<td class="log-time">2026-11-29 14:55:00.754</td>' in html
    assert '<td class="log-logger">workers.whatsapp</td>' in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<span class="log-field"><b>selector</b>=&lt;b&gt;#pane-side&lt;/b&gt;</span>' in html
    assert '<span class="log-field"><b>attempt</b>=3</span>' in html
    assert "<b>tenant_id</b>" not in html  # the page's own tenant, on every line
    assert "RuntimeError: &quot;boom&quot;</pre>" in html


def test_it_shows_a_torn_line_as_it_is(signed_in, tenant, log_dir):
    path = log_dir / f"{tenant.id}.log"
    write_log(path, [record(1, datetime.now(UTC))])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"timestamp": "2026-11-29T1\n')
    html = signed_in.get(url(tenant.id)).content.decode()
    assert shown(html) == ["line 0001"]
    assert "{&quot;timestamp&quot;: &quot;2026-11-29T1" in html
