"""The staff's console: the Django admin's registrations, the operations dashboard, the log
page and the staff API. The one part of ``tenants`` that may use ``workers`` (to start,
stop and delete them), and nothing below imports it."""

# Django's admin autodiscovery imports ``tenants.admin``: these register the models.
from tenants.admin import outbound, registrations, webhooks  # noqa: F401
