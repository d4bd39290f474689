"""What every benchmark needs: Django, a private database, and a way to print ratios.

Benchmarks print figures next to a baseline measured in the same run, so a slower or
faster machine changes both and the ratio stays meaningful.
"""

import os
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


@contextmanager
def bench_database() -> Iterator[None]:
    """A fresh database of its own (never the dev or test one), dropped afterwards."""
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db["TEST"]["NAME"] = str(settings.BASE_DIR / "var" / "bench-db.sqlite3")
    else:
        db["TEST"]["NAME"] = f"bench_{db['NAME']}"
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 0.95)


def report(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"  {name:<{width}}  {value:>22}  {ratio}")


def start_simulator() -> tuple[Any, Any]:
    """A simulator on a free port, served from a thread, fast enough for benchmarks; its
    server (to shut down) and the control API."""
    from tests.helpers.processes import Simulator
    from workers.simulator.server import make_server

    server = make_server("127.0.0.1", 0, qr_rotate_seconds=120, loading_seconds=0.3, send_ack_seconds=0.1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, Simulator(f"http://127.0.0.1:{server.server_address[1]}")


def worker_env(work: Path, simulator_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's run_worker processes: the bench database, their own
    log and session folders under ``work``, the simulator; ``extra`` on top."""
    from tests.conftest import database_url

    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "LOG_DIR": str(work / "logs"),
        "SESSIONS_DIR": str(work / "sessions"),
        "LOG_FORMAT": "json",
        "WHATSAPP_WEB_URL": simulator_url + "/",
        **extra,
    }
