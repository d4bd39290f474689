from workers.management.commands._purge import PurgeCommand
from workers.retention import webhook_events_purge


class Command(PurgeCommand):
    help = (
        "Delete webhook events older than DAYS with their deliveries and attempts, once delivered; "
        "one not delivered (waiting or dead) is kept until it is twice DAYS old."
    )
    purge = staticmethod(webhook_events_purge)
