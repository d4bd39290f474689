"""Django test clients as a browser behind the production TLS proxy is (the suite runs with
production settings, which redirect plain HTTP to HTTPS)."""

from django.test import Client

HTTPS = {"wsgi.url_scheme": "https", "SERVER_PORT": "443", "HTTP_X_FORWARDED_PROTO": "https"}


def https_client() -> Client:
    return Client(**HTTPS)


def signed_in(user) -> Client:
    """A client signed in as ``user`` (session cookie, no password typed)."""
    client = https_client()
    client.force_login(user)
    return client
