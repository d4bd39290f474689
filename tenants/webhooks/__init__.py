"""Webhooks: every event of a tenant's session reaches the tenant's own program, signed.

``events`` names the event types and builds their payloads; ``outbox`` writes an event and its
deliveries in the transaction of the fact it reports; ``safe_url`` is the rule for the URLs
they go to; ``services`` and ``selectors`` are the endpoints', deliveries' and replays' writes
and reads. The dispatcher that sends them is ``workers.webhooks``.
"""
