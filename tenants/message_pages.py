"""The message log as both APIs serve it, one page at a time: the portal's for a tenant's own
messages, the staff API's for any tenant's. One serializer, one set of parameters, one
response, so the two can never page differently."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from tenants import selectors
from tenants.models import MessageLog, Tenant
from tenants.webhooks.events import media_of


class MessageLogOut(serializers.ModelSerializer):
    class Meta:
        model = MessageLog
        fields = [
            "id",
            "direction",
            "from_number",
            "to_number",
            "message_text",
            "wa_message_id",
            "chat_id",
            "is_group",
            "group_name",
            "mentions_me",
            "message_type",
            "media",
            "ack",
            "ack_at",
            "created_at",
        ]

    media = serializers.SerializerMethodField(
        help_text="a media message's file: {url, mime_type, size, file_name, note}; null for text"
    )

    def get_media(self, log: MessageLog) -> dict | None:
        return media_of(log)


class MessagePageOut(serializers.Serializer):
    results = MessageLogOut(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="pass as `before` for the next, older page"
    )


PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=f"1 to {selectors.MAX_PAGE_SIZE} (default {selectors.DEFAULT_PAGE_SIZE})",
    ),
    OpenApiParameter("before", OpenApiTypes.STR, description="the `next_cursor` of the previous page"),
    OpenApiParameter("direction", OpenApiTypes.STR, enum=["IN", "OUT"]),
    OpenApiParameter("q", OpenApiTypes.STR, description="a number (prefix) or text to search"),
]


def message_page_response(request: Request, tenant: Tenant) -> Response:
    params = request.query_params
    page = selectors.message_log_page(
        tenant=tenant,
        limit=selectors.parse_limit(params.get("limit")),
        before=params.get("before") or None,
        direction=selectors.parse_direction(params.get("direction")),
        q=params.get("q", ""),
    )
    return Response(
        {"results": MessageLogOut(page.messages, many=True).data, "next_cursor": page.next_cursor}
    )
