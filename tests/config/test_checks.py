"""The startup checks, run as an operator runs them: ``manage.py check`` in a real process."""

import pytest

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-test-only-0123456789",
    "ALLOWED_HOSTS": "platform.example.com",
    "PORTAL_INTERNAL_KEY": "portal-key-for-tests",
    "METRICS_TOKEN": "metrics-token-for-tests",
}


NOTHING_SET = {
    "DEBUG": "0",
    "SECRET_KEY": "",
    "ALLOWED_HOSTS": "",
    "PORTAL_INTERNAL_KEY": "",
    "DATABASE_URL": "",
    "METRICS_TOKEN": "",
}
REQUIRED = ("SECRET_KEY", "DATABASE_URL", "PORTAL_INTERNAL_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN")


def test_it_names_each_missing_variable_in_production(manage):
    result = manage("check", "--deploy", env=NOTHING_SET)
    assert result.returncode != 0
    for name in REQUIRED:
        assert f"{name} is not set" in result.stderr


def test_it_refuses_production_without_a_metrics_token(manage):
    # Without one, /metrics would trust an address, and behind a proxy every client has it.
    result = manage("check", "--deploy", env={**PRODUCTION_ENV, "METRICS_TOKEN": ""})
    assert result.returncode != 0
    assert "METRICS_TOKEN is not set" in result.stderr


def test_a_fresh_clone_can_check_and_make_migrations_without_production_variables(manage):
    for command in (["check"], ["makemigrations", "--check", "--dry-run"]):
        result = manage(*command, env=NOTHING_SET)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["run_worker", "7c9e6679-7425-40de-944b-e07fc1f90ae7"],
        ["check_stale_workers"],
        ["purge_message_logs", "--older-than", "30"],
    ],
)
def test_every_process_of_the_platform_refuses_production_without_its_variables(manage, command):
    result = manage(*command, env=NOTHING_SET)
    assert result.returncode != 0
    for name in REQUIRED:
        assert f"{name} is not set" in result.stderr


def test_it_passes_a_complete_production_environment(manage):
    result = manage(
        "check", env={**PRODUCTION_ENV, "CHROME_BINARY": "/bin/true", "CHROMEDRIVER_PATH": "/bin/true"}
    )
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr


def test_it_reports_an_unreachable_database_with_its_host(manage):
    result = manage("check", env={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"})
    assert result.returncode != 0
    assert "The database at 127.0.0.1:1 cannot be reached" in result.stderr
    assert "DATABASE_URL" in result.stderr  # the hint says what to look at


def test_it_refuses_an_unwritable_log_dir(manage, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = manage("check", env={"LOG_DIR": str(blocker / "logs")})
    assert result.returncode != 0
    assert "LOG_DIR" in result.stderr and "is not writable" in result.stderr


def test_it_warns_when_chromium_is_missing_in_production(manage):
    result = manage(
        "check",
        env={**PRODUCTION_ENV, "CHROME_BINARY": "/nonexistent/chromium", "CHROMEDRIVER_PATH": "/bin/true"},
    )
    assert result.returncode == 0
    assert "CHROME_BINARY '/nonexistent/chromium' is not an executable file" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "LOUD"), ("LOG_FORMAT", "xml"), ("HEARTBEAT_INTERVAL_SECONDS", "0")],
)
def test_it_refuses_a_bad_setting_naming_the_variable(manage, name, value):
    result = manage("check", env={name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_it_passes_deploy_checks_with_production_settings(manage):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "CHROME_BINARY": "/bin/true", "CHROMEDRIVER_PATH": "/bin/true"},
    )
    assert result.returncode == 0, result.stderr


def test_it_refuses_to_serve_and_logs_why(manage):
    code = "import config.wsgi"
    result = manage("shell", "-c", code, env={"DEBUG": "0", "SECRET_KEY": "", "PORTAL_INTERNAL_KEY": ""})
    assert result.returncode == 1
    assert '"message": "startup check failed"' in result.stdout
    assert "SECRET_KEY is not set" in result.stdout


@pytest.mark.parametrize("job", ["check_stale_workers", "purge_old_data"])
def test_cron_jobs_refuse_production_without_its_variables(manage, job):
    code = f"from workers import cron; cron.{job}()"
    result = manage("shell", "-c", code, env=NOTHING_SET)
    assert result.returncode == 1
    assert '"message": "startup check failed"' in result.stdout
    assert "DATABASE_URL is not set" in result.stdout
