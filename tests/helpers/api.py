"""The portal API as a front end calls it: the internal key and the user's email."""

PORTAL_KEY = "portal-test-key-0123456789"


def as_user(email: str, key: str = PORTAL_KEY) -> dict[str, str]:
    return {"HTTP_X_PORTAL_KEY": key, "HTTP_X_USER_EMAIL": email}


def bearer(plain: str) -> dict[str, str]:
    """A tenant API key, as its program sends it."""
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
