"""What the portal API reads and returns, as DRF serializers (the OpenAPI schema is built from them)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from tenants.models import SetupRequest, Tenant, User
from workers.models import MAX_MESSAGE_LENGTH, OutboundMessage
from workers.services import normalize_number


class PortalTenantOut(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "status", "created_at"]


class PortalUserOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role"]


class PortalSetupRequestOut(serializers.ModelSerializer):
    class Meta:
        model = SetupRequest
        fields = ["id", "status", "notes", "created_at", "decided_at"]


class OutboundOut(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "to_number",
            "text",
            "status",
            "attempts",
            "last_error",
            "wa_message_id",
            "ack",
            "ack_at",
            "created_at",
            "sent_at",
        ]


class OutboundIn(serializers.Serializer):
    to = serializers.CharField(
        max_length=64, help_text="international number, e.g. +15551234567, or a group id (…@g.us)"
    )
    text = serializers.CharField(
        max_length=MAX_MESSAGE_LENGTH,
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        default="",
        help_text="the message, or the file's caption",
    )
    file = serializers.FileField(
        required=False, help_text="a photo, document or audio to send (multipart/form-data)"
    )
    file_url = serializers.CharField(
        required=False,
        max_length=2000,
        help_text="instead of `file`: a public https URL the platform fetches the file from "
        "(the webhooks' address rules apply; redirects are followed, each one checked)",
    )
    voice_note = serializers.BooleanField(
        required=False, default=False, help_text="send audio as a voice note"
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("file") and attrs.get("file_url"):
            raise serializers.ValidationError({"file_url": ["send either file or file_url, not both"]})
        return attrs


class LinkCodeIn(serializers.Serializer):
    phone = serializers.CharField(
        max_length=40, help_text="the phone to link, in international format, e.g. +15551234567"
    )

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_number(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class LinkCodeOut(serializers.Serializer):
    """``tenants.selectors.LinkCodeStatus``, as the API gives it."""

    state = serializers.ChoiceField(
        choices=["none", "asked", "shown", "ended"],
        help_text="none: not asked for; asked: the worker is asking WhatsApp; shown: enter `code` "
        "on the phone (Linked devices, Link with phone number instead) before `expires_at`; "
        "ended: expired or refused, `error` says which (ask again)",
    )
    phone = serializers.CharField(help_text="the number the code is for (digits)")
    code = serializers.CharField(help_text="8 characters, as WhatsApp gave it; empty until shown")
    code_display = serializers.CharField(
        source="code_words", help_text="the code as the phone shows it, ABCD-EFGH"
    )
    expires_at = serializers.DateTimeField(allow_null=True)
    expires_in_seconds = serializers.IntegerField()
    error = serializers.CharField()


class SetupRequestIn(serializers.Serializer):
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


StatusOut = inline_serializer(
    "PortalStatus",
    {
        "tenant": PortalTenantOut(),
        "worker": inline_serializer(
            "PortalWorker",
            {
                "status": serializers.CharField(),
                "last_error": serializers.CharField(
                    help_text="the last problem in plain words (raw reasons can name hosts or exceptions)"
                ),
                "start_position": serializers.IntegerField(
                    allow_null=True,
                    help_text="while starting: its place in the host's line to launch a browser (1 is next)",
                ),
            },
        ),
        "session": inline_serializer(
            "PortalSession",
            {
                "state": serializers.CharField(),
                "state_label": serializers.CharField(),
                "state_changed_at": serializers.DateTimeField(),
                "heartbeat_age_seconds": serializers.IntegerField(allow_null=True),
                "last_seen_at": serializers.DateTimeField(allow_null=True),
                "qr_refresh_count": serializers.IntegerField(),
                "qr_max_refreshes": serializers.IntegerField(),
                "chat_list_ok": serializers.BooleanField(
                    help_text="the chat list answered at the last heartbeat"
                ),
                "last_page_event_at": serializers.DateTimeField(allow_null=True),
                "link_code_state": serializers.CharField(
                    help_text="linking by phone number: none, asked, shown or ended (see link-code)"
                ),
            },
        ),
        "browser": inline_serializer(
            "PortalBrowser",
            {
                "memory_mb": serializers.FloatField(allow_null=True, help_text="PSS of the Chromium tree"),
                "cpu_percent": serializers.FloatField(allow_null=True),
            },
        ),
    },
)
QrOut = inline_serializer(
    "PortalQr",
    {
        "data_uri": serializers.CharField(),
        "issued_at": serializers.DateTimeField(),
        "age_seconds": serializers.IntegerField(),
        "refresh_count": serializers.IntegerField(),
        "max_refreshes": serializers.IntegerField(),
        "expected_lifetime_seconds": serializers.IntegerField(),
    },
)
