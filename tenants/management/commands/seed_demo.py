"""Create the demo staff user and demo tenant for `make run`, once, and print the logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import services
from tenants.models import Tenant, User

DEMO_STAFF = ("admin@example.com", "demo-admin-password")
DEMO_TENANT_USER = ("owner@example.com", "demo-owner-password")
DEMO_TENANT_NAME = "Demo Bakery"


class Command(BaseCommand):
    help = "Create a demo staff user, tenant and tenant user if none exist (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: object, base_url: str, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates known passwords; it runs only with DEBUG=1.")
        tenant = seed_demo()
        self.stdout.write(
            f"\nDemo tenant: {tenant.name} ({tenant.id})\n"
            f"  Admin:  {base_url}/admin/   {DEMO_STAFF[0]} / {DEMO_STAFF[1]}\n"
            f"  Portal: {base_url}/portal/  {DEMO_TENANT_USER[0]} / {DEMO_TENANT_USER[1]}\n"
        )
        if settings.PORTAL_INTERNAL_KEY:
            self.stdout.write(
                f"  Portal API: curl -s -H 'x-portal-key: {settings.PORTAL_INTERNAL_KEY}' "
                f"-H 'x-user-email: {DEMO_TENANT_USER[0]}' {base_url}/api/portal/tenant/current/status\n"
            )


def seed_demo() -> Tenant:
    if not User.objects.filter(email=DEMO_STAFF[0]).exists():
        services.user_create_staff(email=DEMO_STAFF[0], password=DEMO_STAFF[1], name="Demo staff")
    tenant = Tenant.objects.filter(name=DEMO_TENANT_NAME).first()
    if tenant is None:
        tenant = services.tenant_create(name=DEMO_TENANT_NAME)
    if not User.objects.filter(email=DEMO_TENANT_USER[0]).exists():
        services.user_create_tenant_user(
            tenant=tenant, email=DEMO_TENANT_USER[0], password=DEMO_TENANT_USER[1], name="Demo owner"
        )
    return tenant
