"""What a newcomer's `make run` prints and starts: logins that work, a calm supervisord."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.processes import wait_until
from workers.management.commands.run_platform import Command as RunPlatform
from workers.supervisor_config import main_config


def test_seed_demo_prints_a_portal_api_call_that_works(manage, client, settings):
    result = manage("seed_demo", env={"PORTAL_INTERNAL_KEY": "demo-portal-key"})
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "Portal API: curl" in line)
    assert "-H 'x-portal-key: demo-portal-key' -H 'x-user-email: owner@example.com'" in line
    settings.PORTAL_INTERNAL_KEY = "demo-portal-key"
    response = client.get(
        "/api/portal/tenant/current/status",
        HTTP_X_PORTAL_KEY="demo-portal-key",
        HTTP_X_USER_EMAIL="owner@example.com",
    )
    assert response.status_code == 200
    assert response.json()["tenant"]["name"] == "Demo Bakery"


def test_the_demo_simulator_shows_as_many_codes_as_the_worker_waits_for(settings, tmp_path):
    settings.QR_MAX_REFRESHES = 30
    simulator = next(p for p in RunPlatform()._programs(8000, 9000, tmp_path) if p.name == "simulator")
    assert " ".join(simulator.command).endswith("--qr-max-rotations 30")


def test_the_demo_runs_one_webhook_dispatcher_the_only_safe_number_on_sqlite(tmp_path):
    commands = [" ".join(p.command) for p in RunPlatform()._programs(8000, 9000, tmp_path)]
    assert len([c for c in commands if c.endswith("manage.py deliver_webhooks")]) == 1


def test_make_run_gives_the_demo_ten_minutes_of_codes():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "run: export QR_MAX_REFRESHES ?= 30" in makefile


@pytest.mark.slow
def test_supervisord_started_as_root_logs_no_critical_about_it(tmp_path):
    run_dir, conf_dir, log_dir = tmp_path, tmp_path / "conf.d", tmp_path / "log"
    conf_dir.mkdir()
    log_dir.mkdir()
    config = tmp_path / "supervisord.conf"
    config.write_text(main_config(run_dir=run_dir, conf_dir=conf_dir, log_dir=log_dir))
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "supervisord"), "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: (tmp_path / "supervisor.sock").exists(), what="supervisord's socket")
    finally:
        process.terminate()
    output = process.communicate(timeout=30)[0]
    assert "running as root" not in output
    assert "supervisord started" in output
