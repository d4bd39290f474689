"""The startup checks, run as an operator runs them: ``manage.py check`` in a real process."""

import pytest

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-test-only-0123456789",
    "ALLOWED_HOSTS": "platform.example.com",
    "PORTAL_INTERNAL_KEY": "portal-key-for-tests",
}


def test_it_names_each_missing_variable_in_production(manage):
    result = manage(
        "check",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "",
            "ALLOWED_HOSTS": "",
            "PORTAL_INTERNAL_KEY": "",
            "DATABASE_URL": "",
        },
    )
    assert result.returncode != 0
    for name in ("SECRET_KEY", "DATABASE_URL", "PORTAL_INTERNAL_KEY", "ALLOWED_HOSTS"):
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
