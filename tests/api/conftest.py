import pytest

from tenants import services

PORTAL_KEY = "portal-test-key-0123456789"


@pytest.fixture(autouse=True)
def portal_key(settings) -> str:
    settings.PORTAL_INTERNAL_KEY = PORTAL_KEY
    return PORTAL_KEY


@pytest.fixture
def other_user(other_tenant):
    return services.user_create_tenant_user(
        tenant=other_tenant, email="rival@other.test", password="another pass phrase"
    )


def as_user(email: str, key: str = PORTAL_KEY) -> dict[str, str]:
    return {"HTTP_X_PORTAL_KEY": key, "HTTP_X_USER_EMAIL": email}
