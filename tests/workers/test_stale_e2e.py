"""End to end: a worker's browser freezes; the stale check marks it, alerts, and it recovers."""

import os
import signal

import pytest
from django.core import mail

from tenants.models import Alert, Tenant, WorkerEvent
from tests.helpers.processes import wait_until
from tests.helpers.workers import current_qr, worker_of
from workers import orchestration
from workers.periodic import run_checks
from workers.procinfo import process_tree

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def chromium_pids(worker_pid: int) -> list[int]:
    found = []
    for pid in process_tree(worker_pid):
        try:
            name = open(f"/proc/{pid}/comm").read().strip()  # noqa: SIM115
        except OSError:
            continue
        if name.startswith("chrom") and name != "chromedriver":
            found.append(pid)
    return found


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue


def test_a_frozen_browser_is_marked_stale_alerted_and_recovers(
    tenant, simulator, supervisord, worker_env, settings, webhook
):
    settings.STALE_WORKER_THRESHOLD_SECONDS = 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_EMAILS = ["ops@platform.test"]
    orchestration.worker_start(tenant=tenant, by="test")
    simulator.link(wait_until(lambda: current_qr(tenant), what="a QR code"))
    wait_until(lambda: worker_of(tenant).status == "RUNNING", what="RUNNING")
    wait_until(
        lambda: tenant.session.__class__.objects.get(pk=tenant.session.pk).last_seen_at, what="a heartbeat"
    )

    frozen = chromium_pids(worker_of(tenant).pid)
    assert frozen, "the worker's Chromium processes"
    signal_all(frozen, signal.SIGSTOP)
    try:
        # Within the threshold plus one check interval (1 s here), it is marked ERROR.
        def marked() -> bool:
            run_checks()
            return worker_of(tenant).status == "ERROR"

        wait_until(marked, timeout=3 + 1 + 10, what="the worker marked ERROR")
    finally:
        signal_all(frozen, signal.SIGCONT)

    assert Tenant.objects.get(pk=tenant.pk).status == "ERROR"
    stale = WorkerEvent.objects.get(tenant=tenant, kind="STALE_MARKED")
    assert stale.reason.startswith("no heartbeat for ")
    assert [m.subject for m in mail.outbox] == ["[WhatsApp platform] Acme Bakery: Down"]
    (down,) = webhook.received
    assert (down["kind"], down["tenant_id"], down["new_status"]) == ("DOWN", str(tenant.id), "ERROR")

    # Thawed (or restarted), the worker heartbeats again and the recovery is recorded.
    wait_until(lambda: worker_of(tenant).status == "RUNNING", timeout=90, what="the worker back to RUNNING")
    wait_until(lambda: Tenant.objects.get(pk=tenant.pk).status == "ACTIVE", what="the tenant ACTIVE again")
    run_checks()
    assert list(Alert.objects.filter(tenant=tenant).order_by("id").values_list("kind", flat=True)) == [
        "DOWN",
        "RECOVERED",
    ]
    assert [m["kind"] for m in webhook.received] == ["DOWN", "RECOVERED"]
    orchestration.worker_stop(tenant=tenant, by="test")
