"""Who may reset a password where: tenant users in the portal, staff in the admin.

Each flow emails only its own accounts, so a reset link for a staff account never comes from
the tenant-facing portal (and its wording, its pages), and the reverse. An email that belongs
to the other kind gets the same "if it exists, we sent a link" page and no email.
"""

from collections.abc import Iterator

from django.contrib.auth.forms import PasswordResetForm

from tenants.models import User


class TenantPasswordResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        return (user for user in super().get_users(email) if not user.is_staff and user.tenant_id)


class StaffPasswordResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        return (user for user in super().get_users(email) if user.is_staff)
