"""Every write to tenants, sessions, workers, messages and setup requests.

A status or state change goes through ``_transition``: it locks the row, applies the new
value, and records one ``WorkerEvent`` in the same transaction, then logs one line. So the
timeline, the logs and the metrics computed from them can never disagree.
"""

import logging
import socket
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.logging import mask_message_id, mask_number
from tenants import alerts
from tenants.counters import counter_increment
from tenants.models import (
    LINKABLE_STATES,
    MessageLog,
    SetupRequest,
    Tenant,
    User,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
    seconds_since,
)
from tenants.webhooks import events as webhook_events
from tenants.webhooks.outbox import webhook_emit, webhook_emit_bulk, webhook_emit_transition

logger = logging.getLogger(__name__)

Kind = WorkerEvent.Kind


@dataclass(frozen=True)
class Transition:
    tenant_id: uuid.UUID
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


# The rows whose status or state changes through _transition.
_TransitionRow = Tenant | WorkerProcess | WhatsAppSession | SetupRequest


def _tenant_id_of(row: _TransitionRow) -> uuid.UUID:
    return row.pk if isinstance(row, Tenant) else row.tenant_id


def _transition(
    row: _TransitionRow,
    *,
    field: str,
    new: str,
    kind: str,
    reason: str,
    updates: dict[str, Any] | None = None,
    unless: Collection[str] = (),
) -> Transition:
    """Set ``row.<field>`` to ``new`` (plus ``updates``) and record the change, if any.

    The row is re-read under a lock, so two writers racing on the same row each see the
    value the other left, and a change is recorded exactly once. A row whose value is in
    ``unless`` is left as it is (the transition's ``new`` is then its current value).
    """
    model = type(row)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=row.pk)
        old = getattr(locked, field)
        if old in unless:
            new, updates = old, None
        values = dict(updates or {})
        if old != new:
            values[field] = new
        for name, value in values.items():
            setattr(locked, name, value)
            setattr(row, name, value)
        if values:
            locked.save(update_fields=[*values, "updated_at"])
        result = Transition(tenant_id=_tenant_id_of(locked), old=old, new=new)
        if result.changed:
            WorkerEvent.objects.create(
                tenant_id=result.tenant_id, kind=kind, old_value=old, new_value=new, reason=reason
            )
            # In the same transaction: a change, its alert and its webhook event are recorded
            # together or not at all.
            alerts.record_transition(tenant_id=result.tenant_id, kind=kind, old=old, new=new, reason=reason)
            webhook_emit_transition(tenant_id=result.tenant_id, kind=kind, old=old, new=new, reason=reason)
    if result.changed:
        logger.info(
            Kind(kind).label.lower(),  # one constant message per kind of change
            extra={
                "tenant_id": str(result.tenant_id),
                "event": kind,
                "old": old,
                "new": new,
                "reason": reason,
            },
        )
    return result


# --- Tenants and users ---------------------------------------------------------------------


@transaction.atomic
def tenant_create(*, name: str) -> Tenant:
    """A tenant with its (stopped) worker and session rows: one of each, from the start."""
    tenant = Tenant(name=name)
    tenant.full_clean()
    tenant.save()
    WorkerProcess.objects.create(tenant=tenant, process_name=WorkerProcess.process_name_for(tenant.id))
    WhatsAppSession.objects.create(tenant=tenant)
    WorkerEvent.objects.create(
        tenant=tenant, kind=Kind.TENANT_STATUS, new_value=tenant.status, reason="created"
    )
    logger.info("tenant created", extra={"tenant_id": str(tenant.id)})
    return tenant


def tenant_set_status(*, tenant: Tenant, status: str, reason: str = "") -> Transition:
    return _transition(tenant, field="status", new=status, kind=Kind.TENANT_STATUS, reason=reason)


def tenant_mark_active(*, tenant: Tenant, reason: str) -> Transition:
    """ACTIVE, as a worker's session connecting makes it; a suspended tenant stays suspended.

    Checked under the row lock, so a suspension landing while the session connects wins.
    """
    return _transition(
        tenant,
        field="status",
        new=Tenant.Status.ACTIVE,
        kind=Kind.TENANT_STATUS,
        reason=reason,
        unless=(Tenant.Status.SUSPENDED,),
    )


def user_create_tenant_user(*, tenant: Tenant, email: str, password: str, name: str = "") -> User:
    return User.objects.create_user(email, password, name=name, role=User.Role.TENANT, tenant=tenant)


def user_create_staff(*, email: str, password: str, name: str = "") -> User:
    return User.objects.create_superuser(email, password, name=name)


# --- Worker and session --------------------------------------------------------------------


def worker_set_status(
    *, worker: WorkerProcess, status: str, reason: str = "", pid: int | None = None
) -> Transition:
    """Move a worker to ``status``; starting records pid and host, ERROR records the reason."""
    now = timezone.now()
    Status = WorkerProcess.Status
    updates: dict[str, Any] = {"start_position": None}  # any move ends a wait in line
    if status == Status.STARTING:
        updates.update(pid=pid, host=socket.gethostname(), started_at=now, stopped_at=None)
    elif status == Status.STOPPED:
        updates.update(pid=None, stopped_at=now)
    elif status == Status.ERROR:
        updates.update(last_error=reason)
    return _transition(
        worker, field="status", new=status, kind=Kind.WORKER_STATUS, reason=reason, updates=updates
    )


def worker_set_start_position(*, worker: WorkerProcess, position: int | None) -> None:
    """A starting worker's place in the host's line to launch its browser (None: launching).

    Not a transition: no timeline line per step, the worker's status says STARTING all along.
    """
    WorkerProcess.objects.filter(pk=worker.pk).update(start_position=position, updated_at=timezone.now())
    worker.start_position = position


def worker_record_command(*, worker: WorkerProcess, action: str, by: str, host: str) -> None:
    """A start or stop supervisord carried out: the worker now lives on ``host``, and the
    timeline says who asked."""
    now = timezone.now()
    with transaction.atomic():
        WorkerProcess.objects.filter(pk=worker.pk).update(host=host, updated_at=now)
        worker.host = host
        WorkerEvent.objects.create(
            tenant_id=worker.tenant_id,
            kind=Kind.COMMAND,
            new_value=action,
            reason=f"{action} by {by} on {host}",
        )
    logger.info(
        "worker command", extra={"tenant_id": str(worker.tenant_id), "action": action, "by": by, "host": host}
    )


def worker_record_error(*, worker: WorkerProcess, reason: str) -> None:
    """An error the worker survived (logout, conflict, lost browser): kept, not a status."""
    with transaction.atomic():
        WorkerProcess.objects.filter(pk=worker.pk).update(last_error=reason, updated_at=timezone.now())
        WorkerEvent.objects.create(tenant_id=worker.tenant_id, kind=Kind.ERROR, reason=reason)
    worker.last_error = reason
    logger.warning("worker error recorded", extra={"tenant_id": str(worker.tenant_id), "reason": reason})


def worker_record_memory_recovery(*, worker: WorkerProcess, action: str, reason: str) -> None:
    """A page reload or browser restart for memory: on the timeline and in /metrics."""
    if action not in WorkerEvent.MemoryRecovery.values:
        raise ValueError(f"unknown memory recovery {action!r}")
    with transaction.atomic():
        WorkerEvent.objects.create(
            tenant_id=worker.tenant_id, kind=Kind.MEMORY, new_value=action, reason=reason
        )
        counter_increment(
            metric="whatsapp_worker_memory_recoveries_total",
            labels={"tenant_id": str(worker.tenant_id), "action": action},
        )


_NEW_LOGIN_STATES = {
    WhatsAppSession.State.STARTING,
    WhatsAppSession.State.LOGGED_OUT,
    WhatsAppSession.State.AUTH_FAILURE,
}


def session_set_state(*, session: WhatsAppSession, state: str, reason: str = "") -> Transition:
    updates: dict[str, Any] = {}
    if state != session.state:
        updates["state_changed_at"] = timezone.now()
    if state != WhatsAppSession.State.QR:
        # A QR that is no longer on screen must not be offered to anyone.
        updates.update(last_qr="", last_qr_data_uri="")
    if state not in LINKABLE_STATES:
        # Nor a pairing code, once the session links or stops (a request made while the
        # worker starts is kept for it).
        updates.update(link_phone="", link_code="", link_code_expires_at=None, link_code_error="")
    if state in _NEW_LOGIN_STATES:
        updates["qr_refresh_count"] = 0  # a new round of QR codes starts from one
    return _transition(
        session, field="state", new=state, kind=Kind.SESSION_STATE, reason=reason, updates=updates
    )


@transaction.atomic
def session_record_qr(*, session: WhatsAppSession, value: str, data_uri: str) -> int:
    """Store a newly shown QR code; returns how many codes this login attempt has shown."""
    session_set_state(session=session, state=WhatsAppSession.State.QR, reason="QR code shown")
    count = session.qr_refresh_count + 1
    session.last_qr, session.last_qr_data_uri = value, data_uri
    session.qr_issued_at, session.qr_refresh_count = timezone.now(), count
    session.save(
        update_fields=["last_qr", "last_qr_data_uri", "qr_issued_at", "qr_refresh_count", "updated_at"]
    )
    # The value is a login credential: the event and the log say only which code this is.
    WorkerEvent.objects.create(
        tenant_id=session.tenant_id, kind=Kind.QR_ISSUED, new_value=str(count), reason=f"code {count}"
    )
    counter_increment(metric="whatsapp_qr_codes_total", labels={"tenant_id": str(session.tenant_id)})
    logger.info("qr code issued", extra={"tenant_id": str(session.tenant_id), "qr_refresh_count": count})
    return count


class LinkCodeRefused(ValidationError):
    """A pairing code can't be asked for now: the session is linked, or no worker waits for a login."""


def session_request_link_code(*, session: WhatsAppSession, phone: str) -> None:
    """A tenant asks to link by phone number (digits): the worker asks WhatsApp for a code.

    Asking again, even for the same number, replaces the code shown with a new one.
    """
    # One statement checks and writes, so a session that links meanwhile is not asked for a code.
    asked = (
        WhatsAppSession.objects.filter(pk=session.pk, state__in=LINKABLE_STATES)
        .exclude(tenant__status=Tenant.Status.SUSPENDED)
        .update(
            link_phone=phone,
            link_code="",
            link_code_expires_at=None,
            link_code_error="",
            updated_at=timezone.now(),
        )
    )
    session.refresh_from_db(
        fields=["state", "link_phone", "link_code", "link_code_expires_at", "link_code_error"]
    )
    if asked:
        return
    if Tenant.objects.filter(pk=session.tenant_id, status=Tenant.Status.SUSPENDED).exists():
        raise LinkCodeRefused("This account is suspended: it can't be linked until staff lift it.")
    if session.state == WhatsAppSession.State.CONNECTED:
        raise LinkCodeRefused("This WhatsApp is linked already: no pairing code is needed.")
    raise LinkCodeRefused(
        "Start your bot first: a pairing code is asked for while it waits for a login "
        f"(now: {session.get_state_display().lower()})."
    )


@transaction.atomic
def session_record_link_code(*, session: WhatsAppSession, code: str, expires_at: datetime) -> None:
    """The pairing code WhatsApp gave (or refreshed): shown to the tenant until it expires.

    wa-js both returns a requested code and announces it: a code already shown is not news.
    """
    if code == session.link_code:
        return
    session_set_state(session=session, state=WhatsAppSession.State.QR, reason="pairing code shown")
    WhatsAppSession.objects.filter(pk=session.pk).update(
        link_code=code, link_code_expires_at=expires_at, link_code_error="", updated_at=timezone.now()
    )
    session.link_code, session.link_code_expires_at, session.link_code_error = code, expires_at, ""
    # A login code, like a QR code: the event says that one was shown, never the code.
    WorkerEvent.objects.create(tenant_id=session.tenant_id, kind=Kind.QR_ISSUED, reason="pairing code")
    webhook_emit(
        tenant_id=session.tenant_id,
        event_type=webhook_events.SESSION_STATUS,
        data=webhook_events.session_status(
            old=session.state, new=session.state, reason="pairing code shown", at=timezone.now()
        ),
        order_key="session",
    )


def session_end_link_code(*, session: WhatsAppSession, reason: str) -> None:
    """The pairing code expired or WhatsApp refused one: the tenant sees why and may ask again."""
    WhatsAppSession.objects.filter(pk=session.pk).update(
        link_phone="",
        link_code="",
        link_code_expires_at=None,
        link_code_error=reason[:300],
        updated_at=timezone.now(),
    )
    session.link_phone, session.link_code, session.link_code_expires_at = "", "", None
    session.link_code_error = reason[:300]
    WorkerEvent.objects.create(
        tenant_id=session.tenant_id, kind=Kind.ERROR, reason=f"pairing code: {reason}"[:500]
    )


# group.participant_changed's actions, as the timeline says them ({be}: was or were).
GROUP_ACTIONS = {
    "add": "{be} added to",
    "join": "joined",
    "remove": "{be} removed from",
    "leaver": "left",
    "promote": "{be} made admin of",
    "demote": "{be} no longer admin of",
}


def group_membership_record(
    *, tenant: Tenant, group_id: str, group_name: str, action: str, count: int, includes_me: bool
) -> WorkerEvent:
    """A membership change the session saw, on the tenant's timeline: who (this number, or
    how many people; never their numbers), what, and which group."""
    who = "This number" if includes_me else f"{count} {'person' if count == 1 else 'people'}"
    verb = GROUP_ACTIONS.get(action, "{be} changed in").format(be="were" if who.endswith("people") else "was")
    group = f"{group_name} ({group_id})" if group_name else group_id
    event = WorkerEvent.objects.create(
        tenant=tenant, kind=Kind.GROUP, new_value=action[:32], reason=f"{who} {verb} the group {group}"[:500]
    )
    logger.info(
        "group membership changed",
        extra={"tenant_id": str(tenant.id), "action": action, "count": count, "includes_me": includes_me},
    )
    return event


def session_heartbeat(*, session: WhatsAppSession, at: datetime | None = None) -> None:
    """The cheap liveness write: one UPDATE, no event (the timeline records changes only)."""
    at = at or timezone.now()
    WhatsAppSession.objects.filter(pk=session.pk).update(last_seen_at=at, updated_at=at)
    session.last_seen_at = at


@dataclass(frozen=True)
class Vitals:
    """What a heartbeat proves besides a live process: a live page, and the browser's cost."""

    chat_list_ok: bool = True
    last_page_event_at: datetime | None = None
    memory_mb: float | None = None
    cpu_percent: float | None = None


def worker_heartbeat(
    *, worker: WorkerProcess, session: WhatsAppSession, vitals: Vitals | None = None
) -> bool:
    """A live worker's proof of life; returns True when it brings a worker marked down back.

    The stale check may have marked the worker (and its tenant) ERROR while it was silent:
    the first heartbeat after that records the recovery, with its own events.
    """
    vitals = vitals or Vitals()
    at = timezone.now()
    WhatsAppSession.objects.filter(pk=session.pk).update(
        last_seen_at=at,
        updated_at=at,
        chat_list_ok=vitals.chat_list_ok,
        last_page_event_at=vitals.last_page_event_at,
    )
    session.last_seen_at = at
    WorkerProcess.objects.filter(pk=worker.pk).update(
        browser_memory_mb=vitals.memory_mb, browser_cpu_percent=vitals.cpu_percent
    )
    status = WorkerProcess.objects.filter(pk=worker.pk).values_list("status", flat=True).first()
    if status == WorkerProcess.Status.RUNNING:
        return False
    if status is not None:  # None only if the row is gone: worker_set_status then raises DoesNotExist
        worker.status = status
    worker_set_status(worker=worker, status=WorkerProcess.Status.RUNNING, reason="heartbeat resumed")
    tenant = Tenant.objects.get(pk=worker.tenant_id)
    if tenant.status == Tenant.Status.ERROR and session.state == WhatsAppSession.State.CONNECTED:
        tenant_mark_active(tenant=tenant, reason="heartbeat resumed")
    return True


class StaleWorker(NamedTuple):
    """A RUNNING worker the stale check found silent, claimed under its row lock."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    process_name: str
    host: str
    last_seen_at: datetime | None
    tenant_status: str


def _stale_reason(age: int | None) -> str:
    return "no heartbeat ever recorded" if age is None else f"no heartbeat for {age} s"


def workers_mark_stale_bulk(*, workers: list[StaleWorker], now: datetime, threshold_seconds: int) -> int:
    """Mark silent workers ERROR: the bulk form of the status transition, for the stale check.

    Set-based, for thousands of workers at once, yet the same records as ``_transition``: the
    worker's status, a STALE_MARKED event, the tenant's ERROR (unless it is already in error
    or suspended) with its event, and one alert per tenant. Called inside the caller's
    transaction, on rows it has locked; the status is re-checked in the UPDATE.
    """
    if not workers:
        return 0
    RUNNING, ERROR = WorkerProcess.Status.RUNNING, WorkerProcess.Status.ERROR
    WorkerProcess.objects.filter(id__in=[w.id for w in workers], status=RUNNING).update(
        status=ERROR, last_error=f"no heartbeat for over {threshold_seconds} s (stale check)", updated_at=now
    )
    reasons = {}
    events = []
    for _, tenant_id, process_name, host, last_seen, tenant_status in workers:
        age = seconds_since(last_seen, now)
        reasons[tenant_id] = _stale_reason(age)
        events.append(
            WorkerEvent(
                tenant_id=tenant_id,
                kind=WorkerEvent.Kind.STALE_MARKED,
                old_value=RUNNING,
                new_value=ERROR,
                reason=reasons[tenant_id],
                created_at=now,
            )
        )
        if tenant_status not in (Tenant.Status.ERROR, Tenant.Status.SUSPENDED):
            events.append(
                WorkerEvent(
                    tenant_id=tenant_id,
                    kind=WorkerEvent.Kind.TENANT_STATUS,
                    old_value=tenant_status,
                    new_value=Tenant.Status.ERROR,
                    reason=reasons[tenant_id],
                    created_at=now,
                )
            )
        logger.warning(
            "stale worker marked",
            extra={
                "tenant_id": str(tenant_id),
                "process_name": process_name,
                "host": host,
                "heartbeat_age_s": age,
            },
        )
    Tenant.objects.filter(id__in=reasons).exclude(
        status__in=[Tenant.Status.ERROR, Tenant.Status.SUSPENDED]
    ).update(status=Tenant.Status.ERROR, updated_at=now)
    webhook_emit_bulk(
        event_type=webhook_events.WORKER_STATUS,
        data_by_tenant={
            tenant_id: webhook_events.worker_status(old=RUNNING, new=ERROR, reason=reason, at=now)
            for tenant_id, reason in reasons.items()
        },
        order_key="session",
        at=now,
    )
    WorkerEvent.objects.bulk_create(events)
    alerts.record_down_bulk(rows=reasons.items(), old=RUNNING, new=ERROR)
    counter_increment(metric="whatsapp_stale_marked_total", by=len(workers))
    return len(workers)


# --- Messages ------------------------------------------------------------------------------


def message_log_record(
    *,
    tenant: Tenant,
    direction: str,
    from_number: str,
    to_number: str,
    text: str,
    wa_message_id: str | None = None,
    at: datetime | None = None,
    **details: object,
) -> tuple[MessageLog, bool]:
    """Log a message once: returns the row and whether it is new.

    A message WhatsApp shows twice (same id and direction) is found, not logged again; the
    database constraint makes that hold even between two processes. ``at`` is when it was
    seen or sent, if that was before now (written late, after a database outage).
    ``details`` are the other MessageLog fields WhatsApp gave (chat_id, sender_id, ...).
    """
    wa_message_id = wa_message_id or None
    log = MessageLog(
        tenant=tenant,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        message_text=text,
        wa_message_id=wa_message_id,
        created_at=at or timezone.now(),
        **details,
    )
    log.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            log.save(force_insert=True)
            if direction == MessageLog.Direction.IN:
                webhook_emit(
                    tenant_id=tenant.id,
                    event_type=webhook_events.MESSAGE_RECEIVED,
                    data=webhook_events.message_received(log),
                    order_key=f"chat:{log.chat_id or from_number}",
                    at=log.created_at,
                )
    except IntegrityError:
        if wa_message_id is None:
            raise
        existing = MessageLog.objects.get(tenant=tenant, wa_message_id=wa_message_id, direction=direction)
        logger.info(
            "duplicate message ignored",
            extra={
                "tenant_id": str(tenant.id),
                "wa_message_id": mask_message_id(wa_message_id),
                "direction": direction,
            },
        )
        return existing, False
    counter_increment(
        metric="whatsapp_messages_total", labels={"direction": direction, "tenant_id": str(tenant.id)}
    )
    logger.info(
        "message logged",
        extra={
            "tenant_id": str(tenant.id),
            "direction": direction,
            "wa_message_id": mask_message_id(wa_message_id),
            "peer": mask_number(from_number if direction == MessageLog.Direction.IN else to_number),
        },
    )
    return log, True


# --- Setup requests ------------------------------------------------------------------------

_SETUP_DECISIONS: dict[str, set[str]] = {
    SetupRequest.Status.PENDING: {SetupRequest.Status.APPROVED, SetupRequest.Status.REJECTED},
    SetupRequest.Status.APPROVED: {SetupRequest.Status.DONE},
}


def setup_request_create(*, tenant: Tenant, user: User, notes: str = "") -> SetupRequest:
    if user.tenant_id != tenant.id:
        raise ValidationError("A user can only ask for setup of their own tenant.")
    request = SetupRequest(tenant=tenant, user=user, notes=notes)
    request.full_clean()
    request.save()
    logger.info("setup requested", extra={"tenant_id": str(tenant.id), "setup_request_id": str(request.id)})
    return request


def setup_request_decide(
    *, setup_request: SetupRequest, status: str, decided_by: User, notes: str = ""
) -> Transition:
    """Approve, reject or complete a request; a decision out of order is refused."""
    with transaction.atomic():
        current = SetupRequest.objects.select_for_update().get(pk=setup_request.pk)
        if status not in _SETUP_DECISIONS.get(current.status, set()):
            raise ValidationError(
                f"A {current.get_status_display().lower()} setup request cannot become {status}."
            )
        updates: dict[str, Any] = {"decided_by": decided_by, "decided_at": timezone.now()}
        if notes:
            updates["notes"] = notes
        return _transition(
            setup_request,
            field="status",
            new=status,
            kind=Kind.SETUP_REQUEST,
            reason=notes or f"decided by {decided_by.email}",
            updates=updates,
        )
