from tenants.management.commands._purge import PurgeCommand
from tenants.retention import worker_events_purge


class Command(PurgeCommand):
    help = "Delete timeline events older than DAYS, in batches."
    purge = staticmethod(worker_events_purge)
