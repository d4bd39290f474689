"""Fixtures shared by the whole suite: tenants, users, a private LOG_DIR, subprocess env."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.test import Client

from tenants import services
from tenants.models import Tenant, User
from tests.helpers.clients import https_client
from tests.helpers.paths import PROJECT_DIR, database_url


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client() -> Client:
    # The suite runs with production settings, which redirect plain HTTP to HTTPS.
    return https_client()


@pytest.fixture
def log_dir(settings, tmp_path: Path) -> Path:
    settings.LOG_DIR = tmp_path / "logs"
    return settings.LOG_DIR


@pytest.fixture
def tenant(db) -> Tenant:
    return services.tenant_create(name="Acme Bakery")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return services.tenant_create(name="Other Florist")


@pytest.fixture
def tenant_user(tenant: Tenant) -> User:
    return services.user_create_tenant_user(
        tenant=tenant, email="owner@acme.test", password="correct horse battery", name="Owner"
    )


@pytest.fixture
def staff_user(db) -> User:
    return services.user_create_staff(email="staff@platform.test", password="staff pass phrase")




@pytest.fixture
def manage(transactional_db, log_dir: Path):
    """Run ``manage.py`` in a real subprocess against the test database."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        full_env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "LOG_DIR": str(log_dir),
            "LOG_FORMAT": "json",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def pytest_collection_modifyitems(config, items) -> None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL; CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_next = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Receiver.fail_next:
            Receiver.fail_next -= 1
            self.send_response(503)
        else:
            Receiver.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook(settings):
    Receiver.received, Receiver.fail_next = [], 0
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield Receiver
    server.shutdown()
    server.server_close()
