"""Message-log paging benchmark: 5 million rows over 1,000 tenants, on PostgreSQL.

    DATABASE_URL=postgres://... python -m tests.bench.pagination   (BENCH_MESSAGE_ROWS=5000000)

The portal API (``tenant/current/logs``) and the portal's Messages page, first page and a page
1,000 pages deep (50 rows a page), next to the same page fetched with OFFSET, all measured
in the same run on the same data. One tenant holds a fifth of the rows, so that 1,000 pages
deep exists; the others share the rest.
"""

import os
import time

from tests.bench.harness import bench_database, report, setup_django, summary

PAGE = 50
DEPTH = 1000
REPEAT = 20


def main() -> None:
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("\n== pagination benchmark: skipped, it needs PostgreSQL (set DATABASE_URL)")
        return
    with bench_database():
        run()


def fill(rows: int, tenants: int) -> None:
    """Rows straight from generate_series: the ORM would take hours for millions."""
    from django.db import connection

    from tenants.models import Tenant
    from tenants.services import tenant_create

    created = [tenant_create(name=f"bench {i:04d}") for i in range(tenants)]
    big = created[0]
    with connection.cursor() as cursor:
        for tenant, count in [
            (big, rows // 5),
            *[(t, (rows - rows // 5) // (tenants - 1)) for t in created[1:]],
        ]:
            cursor.execute(
                """
                INSERT INTO tenants_messagelog (id, tenant_id, direction, from_number, to_number,
                                                message_text, wa_message_id, created_at)
                SELECT gen_random_uuid(), %s, CASE WHEN g %% 2 = 0 THEN 'IN' ELSE 'OUT' END,
                       '1555' || lpad((g %% 10000000)::text, 7, '0'), '', 'message number ' || g,
                       'false_' || g || '@c.us_' || md5(g::text), now() - g * interval '1 second'
                FROM generate_series(1, %s) AS g
                """,
                [tenant.id, count],
            )
        cursor.execute("ANALYZE tenants_messagelog")
    return Tenant.objects.get(pk=big.pk)


def timed(action: object) -> list[float]:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def run() -> None:
    from django.test import Client

    from tenants.models import MessageLog
    from tenants.selectors import encode_cursor, message_log_page
    from tenants.services import user_create_tenant_user

    rows = int(os.environ.get("BENCH_MESSAGE_ROWS", "5000000"))
    started = time.perf_counter()
    tenant = fill(rows, 1000)
    print(
        f"(filled {MessageLog.objects.count():,} rows in {time.perf_counter() - started:.0f} s)", flush=True
    )
    user = user_create_tenant_user(tenant=tenant, email="bench@example.com", password="bench password 1")
    client = Client(SERVER_NAME="localhost", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    newest = MessageLog.objects.filter(tenant=tenant).order_by("-created_at", "-id")
    deep_row = newest[DEPTH * PAGE - 1]
    cursor = encode_cursor(deep_row)

    def api(before: str = "") -> None:
        response = client.get(
            f"/api/portal/tenant/current/logs?limit={PAGE}" + (f"&before={before}" if before else "")
        )
        assert response.status_code == 200 and len(response.json()["results"]) == PAGE

    def page(before: str = "") -> None:
        response = client.get("/portal/messages/" + (f"?before={before}" if before else ""))
        assert response.status_code == 200

    def offset(skip: int) -> None:
        assert len(list(newest[skip : skip + PAGE])) == PAGE

    def keyset(before: str = "") -> None:
        assert len(message_log_page(tenant=tenant, limit=PAGE, before=before or None).messages) == PAGE

    measurements = [
        ("OFFSET query, first page (baseline)", timed(lambda: offset(0))),
        ("keyset query, first page", timed(keyset)),
        ("API, first page", timed(api)),
        ("Messages page, first page", timed(page)),
        (f"OFFSET query, {DEPTH:,} pages deep (baseline)", timed(lambda: offset(DEPTH * PAGE))),
        (f"keyset query, {DEPTH:,} pages deep", timed(lambda: keyset(cursor))),
        (f"API, {DEPTH:,} pages deep", timed(lambda: api(cursor))),
        (f"Messages page, {DEPTH:,} pages deep", timed(lambda: page(cursor))),
    ]
    first_base = summary(measurements[0][1])[0]
    deep_base = summary(measurements[4][1])[0]
    rows_out = []
    for index, (label, samples) in enumerate(measurements):
        median, p95 = summary(samples)
        base = first_base if index < 4 else deep_base
        rows_out.append(
            (label, f"median {median * 1000:7.1f} ms, p95 {p95 * 1000:7.1f} ms", f"{median / base:.2f}x")
        )
    report(
        f"message log paging, {MessageLog.objects.count():,} rows over 1,000 tenants ({REPEAT} runs each)",
        rows_out,
    )


if __name__ == "__main__":
    main()
