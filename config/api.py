"""What every API error looks like: ``{"detail": "..."}`` with the right status, never HTML."""

import logging

from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, BadRequest):  # a request that names nothing usable, said in words
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/ path no endpoint matches: a JSON 404 like every other API error."""
    return JsonResponse({"detail": f"No API endpoint at {request.path[:200]}."}, status=404)
