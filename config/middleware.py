"""Response headers every page gets, and what a page says while the database is down."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.outage import DATABASE_DOWN

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 10


class ContentSecurityPolicyMiddleware:
    """Sends CONTENT_SECURITY_POLICY (Django 5.2 has no built-in CSP); empty turns it off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class DatabaseUnavailableMiddleware:
    """A database outage is a 503 with Retry-After that says so, not a 500 and a traceback.

    Nothing was written (each write is one transaction), so the request can simply be sent
    again; Django drops the broken connection after the request and the next one reconnects.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.error(
            "database unreachable",
            extra={"path": request.path, "error": type(exception).__name__},
        )
        return database_unavailable_response(request)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    detail = "The database is unreachable for a moment; nothing was changed. Try again shortly."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": detail}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"detail": detail}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
