"""Login throttling for the portal and the admin: repeated failures lock the account out.

Counted per email and per address over LOGIN_LOCKOUT_MINUTES, in the database, so every web
process agrees. A locked-out attempt is refused before the password is even checked.
"""

import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from config.logging import mask_email
from tenants.counters import counter_increment
from tenants.models import LoginFailure

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR", "") if request else "")[:45]


def login_locked(*, email: str, ip_address: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    recent = LoginFailure.objects.filter(created_at__gte=since)
    by_email = recent.filter(email=email.lower()).count()
    by_address = recent.filter(ip_address=ip_address).count() if ip_address else 0
    return by_email >= settings.LOGIN_MAX_FAILURES or by_address >= settings.LOGIN_MAX_FAILURES * 5


def login_failed(*, email: str, ip_address: str, where: str) -> None:
    LoginFailure.objects.create(email=email.lower()[:254], ip_address=ip_address)
    counter_increment(metric="whatsapp_login_failures_total", labels={"where": where})
    logger.warning(
        "sign-in failed", extra={"where": where, "email": mask_email(email), "remote_addr": ip_address}
    )


def login_succeeded(*, email: str) -> None:
    LoginFailure.objects.filter(email=email.lower()).delete()


class ThrottledLoginMixin:
    """For an AuthenticationForm: refuse while locked out, and record each failure."""

    throttle_where = "portal"
    error_messages = {
        "locked_out": "Too many failed sign-ins. Try again in %(minutes)d minutes.",
    }

    def clean(self) -> dict:
        email = (self.cleaned_data.get("username") or "").lower()
        address = client_address(self.request)
        if email and login_locked(email=email, ip_address=address):
            logger.warning(
                "sign-in refused: locked out",
                extra={"where": self.throttle_where, "email": mask_email(email)},
            )
            counter_increment(metric="whatsapp_login_lockouts_total", labels={"where": self.throttle_where})
            raise forms.ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": settings.LOGIN_LOCKOUT_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(email=email, ip_address=address, where=self.throttle_where)
            raise
        login_succeeded(email=email)
        return cleaned
