from workers.management.commands._purge import PurgeCommand
from workers.retention import outbound_messages_purge


class Command(PurgeCommand):
    help = "Delete sent and failed outbound messages older than DAYS, in batches."
    purge = staticmethod(outbound_messages_purge)
