"""A worker's tenant as the tests read it back from the database, and linking it on the simulator."""

from tenants.models import Tenant, WhatsAppSession, WorkerProcess
from tests.helpers.processes import wait_until


def state_of(tenant: Tenant) -> str:
    return WhatsAppSession.objects.get(tenant=tenant).state


def worker_of(tenant: Tenant) -> WorkerProcess:
    return WorkerProcess.objects.get(tenant=tenant)


def current_qr(tenant: Tenant) -> str:
    return WhatsAppSession.objects.get(tenant=tenant).last_qr


def connect(tenant: Tenant, simulator, phone: str = "15550009999") -> str:
    """Scan the code the worker stored, as a phone would; returns the simulator session."""
    qr = wait_until(lambda: current_qr(tenant), what="a QR code in the database")
    session_id = simulator.link(qr, phone)
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED")
    return session_id


def incoming(*, wa_message_id: str, from_number: str, text: str, **fields):
    """An incoming 1:1 message from a phone number, as the worker hands it to the services."""
    from workers.services import Incoming

    chat = f"{from_number}@c.us"
    return Incoming(
        wa_message_id=wa_message_id,
        chat_id=chat,
        sender_id=chat,
        from_number=from_number,
        text=text,
        **fields,
    )
