import pytest

from tenants import services
from tenants.api_keys import api_key_create
from tests.helpers.api import PORTAL_KEY
from tests.webhooks.conftest import acme_endpoint, local_urls  # noqa: F401


@pytest.fixture(autouse=True)
def portal_key(settings) -> str:
    settings.PORTAL_INTERNAL_KEY = PORTAL_KEY
    return PORTAL_KEY


@pytest.fixture
def other_user(other_tenant):
    return services.user_create_tenant_user(
        tenant=other_tenant, email="rival@other.test", password="another pass phrase"
    )


@pytest.fixture
def send_key(tenant, tenant_user) -> str:
    """A key of the tenant's that may send (and change things)."""
    return api_key_create(tenant=tenant, name="shop website", scope="SEND", created_by=tenant_user)[1]


@pytest.fixture
def read_key(tenant, tenant_user) -> str:
    """A read-only key of the tenant's."""
    return api_key_create(tenant=tenant, name="reports", scope="READ", created_by=tenant_user)[1]
