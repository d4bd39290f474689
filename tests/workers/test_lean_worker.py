"""A worker process imports what it uses: not the admin pages, the APIs or the portal.

Each tenant runs one, so every module it loads is paid once per tenant (README, "Memory per
session": 72 MiB before, 46 MiB after).
"""

import subprocess
import sys

from tests.conftest import PROJECT_DIR

# What serves pages; a worker serves none.
PAGE_MODULES = (
    "config.urls",
    "config.api",
    "tenants.admin",
    "portal.views",
    "portal.api",
    "rest_framework.views",
    "drf_spectacular.views",
)


def test_run_worker_imports_no_admin_api_or_portal_module(worker_env):
    # Through manage.py and every check run_worker runs, up to its refusal of an unknown id.
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "manage.py",
            "run_worker",
            "9d3c2f4e-0000-4000-8000-000000000000",
        ],
        cwd=PROJECT_DIR,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "no tenant with id" in result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "workers.whatsapp.client" in imported  # the worker's own code was loaded
    loaded = sorted(m for m in imported if m.startswith(PAGE_MODULES))
    assert loaded == []
