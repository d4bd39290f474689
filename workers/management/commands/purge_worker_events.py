from workers.management.commands._purge import PurgeCommand
from workers.retention import worker_events_purge


class Command(PurgeCommand):
    help = "Delete timeline events older than DAYS, in batches."
    purge = staticmethod(worker_events_purge)
