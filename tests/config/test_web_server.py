"""The production web server: refuses a broken environment, serves, stops cleanly."""

import signal
import urllib.request

from tests.helpers.gunicorn import free_port, production_env, start
from tests.helpers.processes import wait_until


def test_it_refuses_to_serve_a_broken_environment_and_says_why(transactional_db, log_dir):
    server = start(production_env(log_dir, PORTAL_INTERNAL_KEY=""), free_port())
    output, _ = server.communicate(timeout=60)
    assert server.returncode != 0
    assert '"message": "startup check failed"' in output
    assert "PORTAL_INTERNAL_KEY is not set" in output


def test_it_serves_then_stops_on_sigterm_closing_its_connections(transactional_db, log_dir):
    port = free_port()
    server = start(production_env(log_dir), port)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=60, what="the web server to answer")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0
    for line in [
        "environment validated",
        "web server ready",
        "database connections closed",
        "web server stopped",
    ]:
        assert line in output, output[-2000:]
