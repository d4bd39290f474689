"""run_worker refuses what is not a tenant it may run, naming what was wrong, exit 2."""

import pytest

from tenants import services
from workers.management.commands.run_worker import EXIT_USAGE, run_worker


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("", "no tenant given"),
        ("not-a-uuid", "is not a tenant id"),
        ("../../etc/passwd", "is not a tenant id"),
        ("x" * 10_000, "is not a tenant id"),
        ("ünïcødé-☃", "is not a tenant id"),
        ("9d3c2f4e-0000-4000-8000-000000000000", "no tenant with id"),
    ],
)
def test_it_refuses_bad_tenant_ids(db, capsys, arg, message, settings, tmp_path):
    settings.SESSIONS_DIR = tmp_path
    assert run_worker(arg) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert len(err) < 300  # a very long id is not echoed back whole
    assert list(tmp_path.iterdir()) == []  # nothing half-made


def test_it_refuses_a_suspended_tenant(tenant, capsys, settings, tmp_path):
    settings.SESSIONS_DIR = tmp_path
    services.tenant_set_status(tenant=tenant, status="SUSPENDED")
    assert run_worker(str(tenant.id)) == EXIT_USAGE
    assert "is suspended" in capsys.readouterr().err
    assert tenant.worker.status == "STOPPED"
