"""The real cron line: installed by ``manage.py crontab add``, run as cron would run it."""

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants import services
from tenants.models import WorkerProcess

pytestmark = pytest.mark.skipif(
    shutil.which("crontab") is None, reason="needs crontab (Debian's cron package)"
)


@pytest.fixture
def user_crontab():
    """Put the user's own crontab back afterwards, whatever the test did to it."""
    before = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    yield
    if before.returncode == 0:
        subprocess.run(["crontab", "-"], input=before.stdout, text=True, check=True)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)


def installed_lines() -> list[str]:
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if "whatsapp-platform" in line]


def test_the_installed_cron_line_marks_a_stale_worker(manage, user_crontab, tmp_path, log_dir):
    from tests.conftest import database_url

    env_file = tmp_path / "platform.env"
    env_file.write_text(f"DEBUG=1\nDATABASE_URL={database_url()}\nLOG_DIR={log_dir}\nLOG_FORMAT=json\n")
    added = manage("crontab", "add", env={"CRONTAB_COMMAND_PREFIX": f"ENV_FILE={env_file}"})
    assert added.returncode == 0, added.stderr
    stale_line, purge_line = installed_lines()
    assert purge_line.split()[:5] == ["17", "3", "*", "*", "*"]  # the purge, daily
    schedule, command = stale_line.split()[:5], stale_line.split(maxsplit=5)[5].rsplit(" # ", 1)[0]
    assert schedule == ["*", "*", "*", "*", "*"]  # the stale check, every minute
    assert command.startswith(f"ENV_FILE={env_file} ") and "crontab run" in command

    tenant = services.tenant_create(name="Silent Bakery")
    WorkerProcess.objects.filter(tenant=tenant).update(status="RUNNING")
    services.session_heartbeat(session=tenant.session, at=timezone.now() - timedelta(minutes=10))

    # Cron's environment: next to nothing.
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh", "LOGNAME": "root"}
    ran = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert WorkerProcess.objects.get(tenant=tenant).status == "ERROR"

    removed = manage("crontab", "remove")
    assert removed.returncode == 0, removed.stderr
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    assert "whatsapp-platform" not in listing
