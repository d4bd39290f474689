import json
import logging
import uuid

import pytest

from tenants import services
from tenants.logs.files import InvalidTenantId, tenant_log_path
from tenants.logs.handler import close_tenant_log, tenant_file_handler, tenant_logger


@pytest.fixture(autouse=True)
def close_tenant_files():
    yield
    for handler in [h for h in logging.getLogger().handlers if hasattr(h, "tenant_id")]:
        close_tenant_log(uuid.UUID(handler.tenant_id))


def read_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_it_appends_one_json_line_with_the_tenant_id(tenant, log_dir):
    tenant_logger(tenant.id).info("worker ready", extra={"pid": 123})
    (line,) = read_lines(log_dir / f"{tenant.id}.log")
    assert line["tenant_id"] == str(tenant.id)
    assert line["message"] == "worker ready"
    assert line["pid"] == 123
    assert line["level"] == "INFO"
    assert line["logger"] == f"tenant.{tenant.id}"
    assert tenant_file_handler(tenant.id) is not None
    assert line["timestamp"].endswith("Z")


def test_it_keeps_one_file_per_tenant(tenant, other_tenant, log_dir):
    tenant_logger(tenant.id).info("one")
    tenant_logger(other_tenant.id).info("two")
    assert [line["message"] for line in read_lines(tenant_log_path(tenant.id))] == ["one"]
    assert [line["message"] for line in read_lines(tenant_log_path(other_tenant.id))] == ["two"]


def test_it_does_not_duplicate_lines_when_asked_twice(tenant, log_dir):
    tenant_logger(tenant.id)
    handler = tenant_file_handler(tenant.id)
    tenant_logger(str(tenant.id)).warning("once")
    assert len(read_lines(log_dir / f"{tenant.id}.log")) == 1
    assert tenant_file_handler(tenant.id) is handler


def test_it_takes_every_line_about_the_tenant_from_any_module(tenant, other_tenant, log_dir):
    tenant_logger(tenant.id)
    services.worker_set_status(worker=tenant.worker, status="ERROR", reason="chromium crashed")
    services.worker_set_status(worker=other_tenant.worker, status="ERROR", reason="elsewhere")
    (line,) = read_lines(log_dir / f"{tenant.id}.log")
    assert (line["logger"], line["new"], line["reason"]) == ("tenants.services", "ERROR", "chromium crashed")


def test_it_writes_tracebacks_as_valid_json(tenant, log_dir):
    log = tenant_logger(tenant.id)
    try:
        raise RuntimeError('selector #pane-side\nmissing "quoted"')
    except RuntimeError:
        log.exception("client failed", extra={"selector": "#pane-side"})
    (line,) = read_lines(log_dir / f"{tenant.id}.log")
    assert "RuntimeError" in line["exc_info"]
    assert line["level"] == "ERROR"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "not-a-uuid", "", "x" * 5000, "ünïcödé", "/tmp/x"])
def test_it_refuses_an_id_that_is_not_a_uuid(db, log_dir, bad):
    with pytest.raises(InvalidTenantId, match="not a tenant id"):
        tenant_logger(bad)
    assert not log_dir.exists() or not any(log_dir.iterdir())


def test_it_refuses_an_unknown_tenant(db, log_dir):
    missing = uuid.uuid4()
    with pytest.raises(InvalidTenantId, match=f"no tenant with id {missing}"):
        tenant_logger(missing)


def test_it_works_from_the_shell_as_the_readme_shows(manage, log_dir):
    tenant = services.tenant_create(name="Shell Tenant")
    code = (
        "from tenants.logs import tenant_logger; "
        f"tenant_logger('{tenant.id}').info('hello', extra={{'step': 1}})"
    )
    result = manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    (line,) = read_lines(log_dir / f"{tenant.id}.log")
    assert (line["message"], line["step"], line["tenant_id"]) == ("hello", 1, str(tenant.id))

    refused = manage(
        "shell", "-c", "from tenants.logs import tenant_logger; tenant_logger('../../etc/passwd')"
    )
    assert refused.returncode != 0
    assert "is not a tenant id" in refused.stderr
