from workers.management.commands._purge import PurgeCommand
from workers.retention import message_logs_purge


class Command(PurgeCommand):
    help = "Delete message logs older than DAYS, in batches."
    purge = staticmethod(message_logs_purge)
