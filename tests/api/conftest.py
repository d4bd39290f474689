import pytest

from tenants import services
from tests.helpers.api import PORTAL_KEY


@pytest.fixture(autouse=True)
def portal_key(settings) -> str:
    settings.PORTAL_INTERNAL_KEY = PORTAL_KEY
    return PORTAL_KEY


@pytest.fixture
def other_user(other_tenant):
    return services.user_create_tenant_user(
        tenant=other_tenant, email="rival@other.test", password="another pass phrase"
    )


