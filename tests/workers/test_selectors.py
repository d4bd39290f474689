from django.utils import timezone

from workers.models import OutboundMessage
from workers.selectors import outbound_queue
from workers.services import outbound_enqueue


def test_the_queue_lists_newest_first_in_one_order_for_messages_of_the_same_instant(tenant):
    messages = [outbound_enqueue(tenant=tenant, to_number="15550000001", text=f"m{n}")[0] for n in range(3)]
    OutboundMessage.objects.filter(tenant=tenant).update(created_at=timezone.now())
    expected = sorted(messages, key=lambda m: m.id, reverse=True)
    assert outbound_queue(tenant=tenant, limit=10) == expected
    assert outbound_queue(tenant=tenant, limit=2) == expected[:2]
