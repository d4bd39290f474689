"""The webhook fixtures, for the admin's webhook pages."""

from tests.webhooks.conftest import acme_endpoint, local_urls  # noqa: F401
