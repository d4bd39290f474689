"""tenant_logs, rotation and retention of the tenant log files, with real files and processes."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants import services
from tenants.logs.files import delete_expired_logs, rotated_logs, tenant_log_path
from tenants.logs.handler import close_tenant_log, tenant_file_handler, tenant_logger
from tests.helpers.paths import PROJECT_DIR, database_url
from tests.helpers.processes import wait_until


@pytest.fixture
def log_file(tenant, log_dir):
    yield tenant_log_path(tenant.id)
    close_tenant_log(tenant.id)


def write_lines(tenant, count: int, *, level: str = "info", start: int = 0) -> None:
    log = tenant_logger(tenant.id)
    for i in range(start, start + count):
        getattr(log, level)("step", extra={"n": i})


def test_it_prints_the_last_lines_pretty_or_as_json(tenant, log_file, capsys):
    write_lines(tenant, 10)
    call_command("tenant_logs", str(tenant.id), "-n", "3")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3
    assert out[-1].endswith(f"n=9  tenant_id={tenant.id}")
    call_command("tenant_logs", str(tenant.id), "-n", "2", "--json")
    assert [json.loads(line)["n"] for line in capsys.readouterr().out.splitlines()] == [8, 9]


def test_it_filters_by_level_text_and_time(tenant, log_file, capsys):
    write_lines(tenant, 5)
    write_lines(tenant, 2, level="warning", start=100)
    call_command("tenant_logs", str(tenant.id), "--level", "warning", "--json")
    assert [json.loads(line)["n"] for line in capsys.readouterr().out.splitlines()] == [100, 101]
    call_command("tenant_logs", str(tenant.id), "--grep", '"n": 3', "--json")
    assert [json.loads(line)["n"] for line in capsys.readouterr().out.splitlines()] == [3]
    call_command("tenant_logs", str(tenant.id), "--since", "1h", "-n", "100", "--json")
    assert len(capsys.readouterr().out.splitlines()) == 7
    call_command("tenant_logs", str(tenant.id), "--since", "2999-01-01T00:00:00+00:00", "--json")
    assert capsys.readouterr().out == ""


def test_it_reads_across_rotated_files(tenant, log_file, settings, capsys):
    settings.LOG_MAX_BYTES = 2000
    close_tenant_log(tenant.id)
    write_lines(tenant, 100)
    assert len(rotated_logs(log_file)) >= 3
    call_command("tenant_logs", str(tenant.id), "-n", "100", "--json")
    assert [json.loads(line)["n"] for line in capsys.readouterr().out.splitlines()] == list(range(100))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "is not a tenant id"),
        (["9d3c2f4e-0000-4000-8000-000000000000"], "no tenant with id"),
        (["{tenant}", "--since", "yesterday"], "--since: an age like 15m"),
        (["{tenant}", "--since", "99999999999h"], "--since: at most 366d"),
        (["{tenant}", "-n", "0"], "-n: must be 1 or more; got 0"),
        (["{tenant}", "-n", "-3"], "-n: must be 1 or more; got -3"),
    ],
)
def test_it_names_bad_arguments(tenant, log_file, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("tenant_logs", *[a.format(tenant=tenant.id) for a in args])


def test_a_rotation_under_load_loses_no_line(manage, log_dir):
    tenant = services.tenant_create(name="Busy Bakery")
    code = (
        f"from tenants.logs import tenant_logger; log = tenant_logger('{tenant.id}')\n"
        "for i in range(20000): log.info('load', extra={'n': i, 'padding': 'x' * 80})"
    )
    result = manage("shell", "-c", code, env={"LOG_MAX_BYTES": "200000", "LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    path = tenant_log_path(tenant.id)
    files = [path, *rotated_logs(path)]
    assert len(files) > 5
    numbers = []
    for file in files:
        for line in file.read_text().splitlines():
            numbers.append(json.loads(line)["n"])  # every line is whole JSON
    assert sorted(numbers) == list(range(20000))


def test_rotated_files_past_retention_are_deleted(tenant, log_file, settings):
    settings.LOG_MAX_BYTES = 500
    close_tenant_log(tenant.id)
    write_lines(tenant, 20)
    old = rotated_logs(log_file)
    os.utime(old[-1], (time.time() - 30 * 86400,) * 2)
    settings.LOG_RETENTION_DAYS = 14
    assert delete_expired_logs(log_file) == 1
    assert not old[-1].exists()
    assert old[0].exists()


def test_follow_keeps_printing_across_a_rotation(transactional_db, log_dir):
    tenant = services.tenant_create(name="Followed Bakery")
    log = tenant_logger(tenant.id)
    log.info("marker", extra={"n": -1})
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url(), "LOG_DIR": str(log_dir)}
    follower = subprocess.Popen(
        [sys.executable, "manage.py", "tenant_logs", str(tenant.id), "--follow", "--json", "-n", "1"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict] = []
    reader = threading.Thread(
        target=lambda: lines.extend(json.loads(line) for line in follower.stdout), daemon=True
    )
    reader.start()
    try:
        wait_until(lambda: lines, what="the follower to print the last line")
        for i in range(5):
            log.info("before", extra={"n": i})
        wait_until(lambda: len(lines) == 6, what="lines before the rotation")
        tenant_file_handler(tenant.id).doRollover()
        for i in range(5, 10):
            log.info("after", extra={"n": i})
        wait_until(lambda: len(lines) == 11, what="lines after the rotation")
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
        close_tenant_log(tenant.id)
    assert follower.returncode == 0, follower.stderr.read()
    assert [line["n"] for line in lines] == list(range(-1, 10))


def test_it_says_no_log_yet_and_fails_for_a_tenant_without_a_file(manage):
    tenant = services.tenant_create(name="Quiet Bakery")
    result = manage("tenant_logs", str(tenant.id))
    assert result.returncode == 1
    assert f"no log yet: {tenant_log_path(tenant.id)} does not exist" in result.stderr
    assert result.stdout == ""


def test_a_huge_since_is_an_error_not_a_traceback(manage):
    tenant = services.tenant_create(name="Busy Bakery")
    result = manage("tenant_logs", str(tenant.id), "--since", "99999999999h")
    assert result.returncode == 1
    assert "--since: at most 366d" in result.stderr
    assert "Traceback" not in result.stderr
