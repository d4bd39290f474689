"""The OpenAPI document's ``webhooks`` section: what a tenant's receiver is sent, one entry per event.

Each body is ``{"type", "timestamp", "data"}`` with the headers of Standard Webhooks; the data of
each type is described field by field, with the example from ``tenants.webhooks.events``
(tests check that the examples, the documented fields and what the platform sends agree).
Listed in ``SPECTACULAR_SETTINGS["WEBHOOKS"]``; ``add_signature_headers`` adds the headers,
which drf-spectacular's webhook support does not take as parameters.
"""

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from tenants.webhooks import events


def _time(help_text: str = "ISO 8601, with its offset") -> serializers.DateTimeField:
    return serializers.DateTimeField(help_text=help_text)


def _nullable(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


def _outbound(**extra: serializers.Field) -> dict[str, serializers.Field]:
    return {
        "outbound_id": serializers.UUIDField(help_text="the id the send API answered with"),
        "to": serializers.CharField(help_text="the number or chat id it was sent to"),
        "chat_id": serializers.CharField(help_text="the chat it is in, e.g. 15551230001@c.us"),
        "message_id": _nullable(help_text="WhatsApp's id of the sent message; null until sent"),
        "idempotency_key": _nullable(help_text="the Idempotency-Key it was queued with"),
        **extra,
    }


def _transition(name: str, label: str, **extra: serializers.Field) -> dict[str, serializers.Field]:
    return {
        name: serializers.CharField(help_text=f"the new {name}, in lower case"),
        "previous": serializers.CharField(help_text=f"the {name} before"),
        f"{name}_label": serializers.CharField(help_text=label),
        "reason": serializers.CharField(allow_blank=True, help_text="why, in words; may be empty"),
        "at": _time(),
        **extra,
    }


DATA: dict[str, dict[str, serializers.Field]] = {
    events.MESSAGE_RECEIVED: {
        "log_id": serializers.UUIDField(
            help_text="the message log row (GET /api/portal/tenant/current/logs)"
        ),
        "message_id": serializers.CharField(help_text="WhatsApp's message id; de-duplicate on it"),
        "chat_id": serializers.CharField(help_text="where to answer: 15551230001@c.us, or a group's …@g.us"),
        "from": _nullable(help_text="the sender's number (null when WhatsApp hides it behind a LID)"),
        "sender_id": serializers.CharField(help_text="who wrote it: a number's @c.us id, or a @lid"),
        "group_id": _nullable(help_text="the group's id when it came in a group"),
        "group_name": _nullable(help_text="the group's name as WhatsApp showed it, in a group"),
        "mentions_me": serializers.BooleanField(help_text="whether it mentions this number with @"),
        "type": serializers.CharField(help_text="WhatsApp's message type: chat, image, ptt, …"),
        "media": inline_serializer(
            "WebhookMedia",
            {
                "url": _nullable(
                    help_text="GET it with your API key (Authorization: Bearer …); null when no file was kept"
                ),
                "mime_type": serializers.CharField(help_text="the type read from the file's content"),
                "size": serializers.IntegerField(allow_null=True, help_text="bytes"),
                "file_name": serializers.CharField(
                    allow_blank=True, help_text="the sender's name for it, made safe"
                ),
                "note": serializers.CharField(allow_blank=True, help_text="why no file is kept, if none is"),
            },
            allow_null=True,
            help_text="the photo, document, voice note, … of a media message; null for text",
        ),
        "text": serializers.CharField(allow_blank=True, help_text="the text, or a media message's caption"),
        "quoted_message_id": _nullable(help_text="the message it replies to"),
        "timestamp": serializers.DateTimeField(help_text="when WhatsApp says it was sent"),
    },
    events.MESSAGE_SENT: _outbound(
        source=serializers.CharField(help_text="API, PORTAL or RULE: what queued it"),
        sent_at=_time(),
    ),
    events.MESSAGE_FAILED: _outbound(
        error=serializers.CharField(help_text="why it was given up, in words"),
        attempts=serializers.IntegerField(help_text="how many times it was tried"),
    ),
    events.MESSAGE_ACK: _outbound(
        ack=serializers.ChoiceField(
            choices=[*events.ACK_WORDS.values(), events.NOT_CONFIRMED],
            help_text="the ticks: sent, delivered, read, played; failed; or not_confirmed when "
            "WhatsApp never acknowledged it in time",
        ),
        at=_time(),
        error=serializers.CharField(allow_blank=True, help_text="why it failed; empty otherwise"),
    ),
    events.SESSION_STATUS: _transition(
        "state",
        "the state in words, as the portal shows it",
        qr_url=serializers.CharField(
            required=False, help_text=f"state qr only: GET it with your key for the QR code ({events.QR_URL})"
        ),
        link_code_url=serializers.CharField(
            required=False, help_text=f"state qr only: link by phone number instead ({events.LINK_CODE_URL})"
        ),
    ),
    events.WORKER_STATUS: _transition("status", "the status in words"),
    events.TEST: {
        "endpoint_id": serializers.UUIDField(help_text="the endpoint it was sent to"),
        "message": serializers.CharField(),
    },
}

TEST_EXAMPLE = {
    "endpoint_id": "2a4e6c80-0000-4000-8000-000000000003",
    "message": "A test event from your WhatsApp platform.",
}
DESCRIPTIONS = {**events.EVENT_TYPES, events.TEST: "Sent by “send a test event”, to that endpoint only."}


def _name(event_type: str) -> str:
    return "".join(part.title() for part in event_type.replace(".", "_").split("_"))


def _webhook(event_type: str) -> OpenApiWebhook:
    example = TEST_EXAMPLE if event_type == events.TEST else events.EXAMPLES[event_type]
    body = inline_serializer(
        f"{_name(event_type)}Event",
        {
            "type": serializers.ChoiceField(choices=[event_type]),
            "timestamp": serializers.DateTimeField(help_text="when the event was written"),
            "data": inline_serializer(f"{_name(event_type)}Data", DATA[event_type]),
        },
    )
    return OpenApiWebhook(
        name=event_type,
        decorator=extend_schema(
            summary=DESCRIPTIONS[event_type],
            description="POSTed to each enabled endpoint subscribed to it, signed per Standard Webhooks. "
            "Verify webhook-signature over `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's "
            "secret, and de-duplicate on webhook-id: a delivery can arrive more than once.",
            request=body,
            examples=[
                OpenApiExample(
                    event_type,
                    value={
                        "type": event_type,
                        "timestamp": "2026-12-06T09:30:00.120000+00:00",
                        "data": example,
                    },
                )
            ],
            responses={
                200: OpenApiResponse(description="received: any 2xx counts as delivered"),
                429: OpenApiResponse(description="later: tried again, after Retry-After if given"),
                410: OpenApiResponse(description="any other 4xx: not tried again (the delivery is dead)"),
                500: OpenApiResponse(description="any 5xx, a timeout or a redirect: tried again later"),
            },
        ),
    )


WEBHOOKS = [_webhook(event_type) for event_type in events.ALL_TYPES]

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "the event's id (msg_…): the same on every attempt and replay",
        "example": "msg_4f0c5e4e1d7b4a539a613b3f7c0f2a10",
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "Unix seconds of this attempt; refuse ones far from your clock",
        "example": "1796549400",
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "`v1,` and the base64 HMAC-SHA256; two, space-separated, while an old secret signs",
        "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    },
]


def add_signature_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: every webhook's POST documents the three signature headers."""
    for path_item in result.get("webhooks", {}).values():
        for operation in path_item.values():
            operation["parameters"] = SIGNATURE_HEADERS
    return result
