"""One tenant's worker, in small collaborators.

- loop.Worker: the lifecycle and the one loop (start, step, stop, browser recovery, outages);
- handlers.Handlers: what each event from WhatsApp Web does (a match on its type);
- sender.Sender: the outbound queue at the tenant's pace, acks, "not confirmed";
- vitals.Vitals: heartbeat (a wa-js round trip) and the browser's memory and CPU;
- outage.OutageBuffer: the typed records of what the database is owed during an outage.
"""

from workers.runtime.context import EXIT_FAILED, EXIT_OK, StopWorker, WorkerConfig
from workers.runtime.loop import Worker

__all__ = ["EXIT_FAILED", "EXIT_OK", "StopWorker", "Worker", "WorkerConfig"]
