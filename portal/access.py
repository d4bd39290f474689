"""The portal's one door: every page view is wrapped in ``tenant_required``."""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from tenants.access import tenant_for_user
from tenants.models import Tenant

logger = logging.getLogger(__name__)

P = ParamSpec("P")
TenantView = Callable[Concatenate[HttpRequest, Tenant, P], HttpResponseBase]


def tenant_required(view: TenantView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Pass the signed-in user's own tenant to ``view``; anyone else is sent elsewhere.

    Anonymous visitors go to the login page, staff to the admin (the portal shows one
    tenant's data and staff have none). The tenant comes only from who is asking, never
    from the URL, so no id a user types can reach another tenant's page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_staff:
            return redirect("/admin/")
        return view(request, tenant_for_user(user), *args, **kwargs)

    return wrapper
