"""The webhook dispatcher: takes due deliveries from the outbox, signs and POSTs them."""
