"""The shipped Prometheus rules: valid, and each fires (or stays silent) where it should."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT_DIR

RULES = PROJECT_DIR / "config" / "prometheus"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="needs promtool (Debian's prometheus package)"
)


def promtool(*args: str, cwd: Path = RULES) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 rules found" in result.stdout


def test_the_rule_unit_tests_pass():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_scrape_config_is_valid():
    result = promtool("check", "config", "prometheus.example.yml")
    assert result.returncode == 0, result.stdout + result.stderr
