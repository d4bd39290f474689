"""Fuzz both APIs from their own OpenAPI schema with schemathesis, against a running server:
no server errors, and every response matches the schema (status, content type, body)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tenants import services
from tests.helpers.gunicorn import free_port, production_env, start
from tests.helpers.paths import PROJECT_DIR
from tests.helpers.processes import wait_until

pytestmark = pytest.mark.slow
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture
def server(transactional_db, log_dir, tmp_path):
    port = free_port()
    env = production_env(log_dir, WORKER_HOSTS=f"unix://{tmp_path}/none.sock#{tmp_path}/conf.d")
    # Its access log would fill an unread pipe and stall it: to a file instead.
    process = start(env, port, output=tmp_path / "gunicorn.out")

    def answers() -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(answers, timeout=60, what="the server")
    yield f"http://127.0.0.1:{port}", env
    process.terminate()
    process.wait(timeout=30)


def fuzz(base: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{base}/api/schema/",
            "--checks",
            CHECKS,
            "-n",
            "15",
            "--seed",
            "20261129",
            *args,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(
    shutil.which(SCHEMATHESIS) is None and not Path(SCHEMATHESIS).exists(), reason="schemathesis"
)
def test_the_portal_api_survives_fuzzing(server):
    base, env = server
    tenant = services.tenant_create(name="Fuzzed Bakery")
    services.user_create_tenant_user(tenant=tenant, email="fuzz@acme.test", password="fuzz pass phrase")
    result = fuzz(
        base,
        "-H",
        f"x-portal-key: {env['PORTAL_INTERNAL_KEY']}",
        "-H",
        "x-user-email: fuzz@acme.test",
        "--include-path-regex",
        "^/api/portal",
    )
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.skipif(
    shutil.which(SCHEMATHESIS) is None and not Path(SCHEMATHESIS).exists(), reason="schemathesis"
)
def test_the_admin_api_survives_fuzzing(server):
    base, _ = server
    staff = services.user_create_staff(email="fuzz-staff@platform.test", password="staff pass phrase")
    token = Token.objects.create(user=staff).key
    services.tenant_create(name="Fuzzed Florist")
    # Worker actions answer 503 by design here (no supervisord); they are tested against a real one.
    result = fuzz(
        base,
        "-H",
        f"Authorization: Token {token}",
        "--include-path-regex",
        "^/api/admin",
        "--exclude-path-regex",
        "/worker/",
    )
    assert result.returncode == 0, result.stdout[-4000:]
