"""WSGI entry point: validates the environment before the first request is served."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.startup import validate_environment_or_exit  # noqa: E402 (needs Django set up)

validate_environment_or_exit(process="web")
