import pytest
from django.db import connection

from tenants import services
from tenants.admin.registrations import LargeTablePaginator
from tenants.models import MessageLog

pytestmark = pytest.mark.postgres


def add_messages(tenant, count):
    for _ in range(count):
        services.message_log_record(tenant=tenant, direction="IN", from_number="1", to_number="2", text="x")


def test_it_takes_the_planner_estimate_for_a_huge_unfiltered_table(tenant, monkeypatch):
    add_messages(tenant, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_messagelog")
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 10)
    paginator = LargeTablePaginator(MessageLog.objects.order_by("-created_at"), 10)
    assert paginator.count == 30  # from pg_class.reltuples, not COUNT(*)
    assert len(paginator.page(1).object_list) == 10


def test_it_counts_a_filtered_list_exactly_and_leaves_no_time_limit_behind(tenant, other_tenant):
    add_messages(tenant, 3)
    add_messages(other_tenant, 5)
    paginator = LargeTablePaginator(MessageLog.objects.filter(tenant=other_tenant).order_by("-created_at"), 2)
    assert paginator.count == 5
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
