import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_liveness_answers_without_touching_the_database(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert len(queries) == 0


def test_readiness_reports_each_check_and_worker_counts(client, tenant, log_dir):
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "log_dir": "ok"}
    assert body["workers"] == {"STOPPED": 1}


def test_readiness_fails_naming_an_unwritable_log_dir(client, db, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.LOG_DIR = blocker / "logs"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["log_dir"]
    assert "not writable" in response.json()["checks"]["log_dir"]


@pytest.mark.parametrize("url", ["postgres://postgres@127.0.0.1:1/nowhere"])
def test_readiness_fails_naming_the_database_when_it_is_down(manage, url):
    code = (
        "from django.test import Client; r = Client(SERVER_NAME='localhost').get('/readyz'); "
        "print(r.status_code, r.json()['failed'], r.json()['checks']['database'][:40])"
    )
    result = manage("shell", "-c", code, env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "503 ['database', 'migrations']" in result.stdout
    assert "unreachable" in result.stdout
