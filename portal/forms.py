"""The portal's forms: they shape and check input; the services do the writing."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from tenants.models import TenantApiKey
from tenants.throttle import ThrottledLoginMixin
from tenants.webhooks import events
from workers.models import ReplyRule
from workers.services import (
    RULE_FIELDS,
    normalize_number,
    normalize_recipient,
    validate_caption,
    validate_text,
)

logger = logging.getLogger(__name__)

MAX_SETUP_NOTES = 2000
FORM_EXPIRED = "This form has expired; please fill it in again."


class EmailAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """Django's login form, asking for what our users sign in with: their email."""

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        **ThrottledLoginMixin.error_messages,
        "invalid_login": "That email and password don't match an account. Check both and try again.",
    }

    def clean_username(self) -> str:
        # Accounts are stored lowercased (UserManager.create_user); phones capitalise.
        return self.cleaned_data["username"].lower()


class SendForm(forms.Form):
    to_number = forms.CharField(
        label="To (phone number or group id)",
        required=False,
        max_length=64,
        help_text="A number in international format, like +1 555 123 4567, or a group's id "
        "(…@g.us, shown on the Messages page).",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "spellcheck": "false"}),
    )
    # Not required and not stripped here: the service's own checks word the errors.
    text = forms.CharField(
        label="Message (or the file's caption)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    file = forms.FileField(
        label="Photo, document or audio (optional)",
        required=False,
        help_text="Sent as a photo, a video, an audio or a document by what the file is.",
    )
    voice_note = forms.BooleanField(label="Send audio as a voice note", required=False)
    # One token per form shown: pressing Send twice queues the message once.
    token = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": FORM_EXPIRED, "invalid": FORM_EXPIRED}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # forms.Form's own arguments
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    # The same checks the queue applies, so each error shows beside its own field.
    def clean_to_number(self) -> str:
        return normalize_recipient(self.cleaned_data["to_number"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "text" in data:
            try:
                data["text"] = (
                    validate_caption(data["text"]) if data.get("file") else validate_text(data["text"])
                )
            except ValidationError as exc:
                self.add_error("text", exc)
        return data


class LinkCodeForm(forms.Form):
    phone = forms.CharField(
        label="Your WhatsApp number",
        max_length=64,
        help_text="The phone you link, in international format, like +1 555 123 4567.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return normalize_number(self.cleaned_data["phone"])


class ReplyRuleForm(forms.ModelForm):
    class Meta:
        model = ReplyRule
        fields = list(RULE_FIELDS)  # exactly what the services change
        labels = {
            "name": "Name (for you)",
            "match_type": "Match",
            "pattern": "Keyword or pattern",
            "reply_text": "Reply",
        }
        help_texts = {
            "pattern": "A keyword matches as a whole word, ignoring case; a regular expression matches "
            "anywhere in the text (one that takes longer than a tenth of a second on a message is "
            "skipped for that message).",
        }
        widgets = {"reply_text": forms.Textarea(attrs={"rows": 4})}


class SetupRequestForm(forms.Form):
    notes = forms.CharField(
        label="What do you need?",
        required=False,
        max_length=MAX_SETUP_NOTES,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: for example the phone number to link, or a good time to call you.",
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What uses it, e.g. “shop website”.")
    scope = forms.ChoiceField(
        label="Allows", choices=TenantApiKey.Scope.choices, initial=TenantApiKey.Scope.READ
    )


class WebhookEndpointForm(forms.Form):
    """An endpoint's URL, description and events; the services check the URL and the events."""

    # A plain text field: the URL rule's own words (tenants.webhooks.safe_url) say what is wrong.
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="Where we POST each event, e.g. https://shop.example/whatsapp/events.",
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label="Description (for you)", required=False, max_length=200, help_text="e.g. “order bot”."
    )
    # Not required here: the service says "Choose at least one event." in one place.
    event_types = forms.MultipleChoiceField(
        label="Events",
        required=False,
        choices=list(events.EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
    )


DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ReplaySinceForm(forms.Form):
    since = forms.DateTimeField(
        label="Replay every failed or dead delivery since",
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"required": "Say since when.", "invalid": "Give a date and a time."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # forms.Form's own arguments
        super().__init__(*args, **kwargs)
        self.fields["since"].help_text = f"Your time zone: {timezone.get_current_timezone_name()}."
        if not self.is_bound:
            day_ago = timezone.localtime() - timedelta(days=1)
            self.initial.setdefault("since", day_ago.replace(second=0, microsecond=0))
