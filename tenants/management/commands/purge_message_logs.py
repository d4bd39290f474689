from tenants.management.commands._purge import PurgeCommand
from tenants.retention import message_logs_purge


class Command(PurgeCommand):
    help = "Delete message logs older than DAYS, in batches."
    purge = staticmethod(message_logs_purge)
