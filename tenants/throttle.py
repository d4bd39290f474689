"""Login throttling for the portal and the admin: repeated guessing from one address stops.

Failures are counted per client address (config/addresses.py, which sees through a trusted
proxy) over LOGIN_LOCKOUT_MINUTES, in the database, so every web process agrees. An address
is refused for one email after LOGIN_MAX_FAILURES failures on it, and for every email after
LOGIN_MAX_FAILURES_PER_ADDRESS failures on any: with the defaults, 5 guesses at one account
and 25 in all per 15 minutes, under 2 a minute. Nothing is keyed on the email alone, so
nobody can lock an account out for the people who own it by failing on purpose. A refused
attempt is refused before the password is even checked.
"""

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from config.addresses import client_address
from config.logging import mask_email
from tenants.counters import counter_increment
from tenants.models import LoginFailure

logger = logging.getLogger(__name__)


def login_locked(*, email: str, ip_address: str) -> bool:
    """Whether sign-ins for ``email`` from ``ip_address`` are refused for now."""
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    from_address = LoginFailure.objects.filter(created_at__gte=since, ip_address=ip_address)
    if ip_address and from_address.count() >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        return True
    return from_address.filter(email=email.lower()).count() >= settings.LOGIN_MAX_FAILURES


def login_failed(*, email: str, ip_address: str, where: str) -> None:
    LoginFailure.objects.create(email=email.lower()[:254], ip_address=ip_address)
    counter_increment(metric="whatsapp_login_failures_total", labels={"where": where})
    logger.warning(
        "sign-in failed", extra={"where": where, "email": mask_email(email), "remote_addr": ip_address}
    )


def login_succeeded(*, email: str, ip_address: str) -> None:
    # Only this address's failures on this account: a success elsewhere says nothing of them.
    LoginFailure.objects.filter(email=email.lower(), ip_address=ip_address).delete()


# For the type checker the mixin is the AuthenticationForm it is mixed into (its cleaned_data,
# request, error_messages and clean); at run time it stays a plain mixin, the MRO unchanged.
if TYPE_CHECKING:
    _LoginFormBase = AuthenticationForm
else:
    _LoginFormBase = object


class ThrottledLoginMixin(_LoginFormBase):
    """For an AuthenticationForm: refuse while locked out, and record each failure."""

    throttle_where = "portal"
    error_messages = {
        "locked_out": "Too many failed sign-ins. Try again in %(minutes)d minutes.",
    }

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").lower()
        address = client_address(self.request)
        if email and login_locked(email=email, ip_address=address):
            logger.warning(
                "sign-in refused: locked out",
                extra={
                    "where": self.throttle_where,
                    "email": mask_email(email),
                    "remote_addr": address,
                },
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
        login_succeeded(email=email, ip_address=address)
        return cleaned
