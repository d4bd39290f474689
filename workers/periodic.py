"""One round of the periodic work: mark stale workers, remind, deliver alerts."""

import logging

from tenants.alerts import alerts_deliver, alerts_remind
from workers.stale import StaleCheck, workers_mark_stale

logger = logging.getLogger(__name__)


def run_checks() -> StaleCheck:
    result = workers_mark_stale()
    alerts_remind()
    # After the check's transaction: a slow webhook can't hold its locks.
    alerts_deliver()
    return result
