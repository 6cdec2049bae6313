"""Erasing an animator (RGPD): the registry pseudonymises its copy, forgets the published events
that named the address, and publishes ``person.erased`` for every other service to do the same.

Only the agency erases, and only the animators of a centre that left or never joined (rejected,
expired, withdrawn): a member's or a suspended centre's animators are the network's contacts."""

from dataclasses import dataclass
from uuid import UUID

import structlog
from crnt_shared.auth import person_id_for
from crnt_shared.contracts.identity import ActorRef
from crnt_shared.contracts.registry import PersonErased, PersonErasedData
from crnt_shared.db import UnitOfWork
from crnt_shared.erasure import (
    ERASED_NAME,
    address_digest,
    erased_address,
    forget_published_events,
    new_salt,
)
from crnt_shared.events import utcnow
from crnt_shared.http import Conflict, NotFound

from crnt_registry.domain import CLOSED
from crnt_registry.repository import email_hash

log = structlog.get_logger(__name__)

SOURCE = "/crnt/registry"


@dataclass(frozen=True)
class EraseAnimator:
    centre_id: UUID
    animator_id: UUID
    by: ActorRef | None = None


@dataclass(frozen=True)
class Erased:
    animator_id: UUID
    centre_id: UUID
    #: False when the animator had been erased already (nothing was published again).
    now: bool


async def erase_animator(command: EraseAnimator, uow: UnitOfWork) -> Erased:
    connection = uow.connection
    status = await connection.fetchval(
        "SELECT status FROM centres WHERE id = $1 FOR UPDATE", command.centre_id
    )
    if status is None:
        raise NotFound(
            f"There is no centre {command.centre_id}: list them with GET /api/v1/centres."
        )
    if status not in CLOSED:
        raise Conflict(
            f"The centre is {status}: only the animators of a rejected, expired or withdrawn"
            " centre can be erased. Withdraw its membership first, or remove the animator.",
            current_status=status,
        )
    row = await connection.fetchrow(
        "SELECT email, erased_at FROM animators WHERE id = $1 AND centre_id = $2",
        command.animator_id,
        command.centre_id,
    )
    if row is None:
        raise NotFound(
            f"Centre {command.centre_id} has no animator {command.animator_id}: list its animators."
        )
    if row["erased_at"] is not None:
        return Erased(command.animator_id, command.centre_id, now=False)
    email: str = row["email"]
    elsewhere = await connection.fetchrow(
        "SELECT c.id, c.status FROM animators a JOIN centres c ON c.id = a.centre_id"
        " WHERE lower(a.email) = lower($1) AND a.id <> $2 AND c.status <> ALL($3::text[])"
        " ORDER BY c.id LIMIT 1",
        email,
        command.animator_id,
        sorted(status.value for status in CLOSED),
    )
    if elsewhere is not None:
        raise Conflict(
            f"This person also animates centre {elsewhere['id']}, which is {elsewhere['status']}:"
            " remove them from it first, then erase them here.",
            centre_id=str(elsewhere["id"]),
        )
    now = utcnow()
    await connection.execute(
        "UPDATE animators SET name = $2, email = $3, erased_at = $4, updated_at = $4 WHERE id = $1",
        command.animator_id,
        ERASED_NAME,
        erased_address(command.animator_id),
        now,
    )
    await connection.execute(
        "DELETE FROM confirmation_requests WHERE email_hash = $1", email_hash(email)
    )
    forgotten = await forget_published_events(connection, [email])
    salt = new_salt()
    data = PersonErasedData(
        animator_id=command.animator_id,
        centre_id=command.centre_id,
        person_id=person_id_for(email),
        salt=salt,
        email_digest=address_digest(email, salt),
        at=now,
        actor=command.by,
    )
    await uow.publish(PersonErased.create(source=SOURCE, subject=str(command.centre_id), data=data))
    await uow.commit()
    log.info(
        "person erased",
        animator_id=str(command.animator_id),
        centre_id=str(command.centre_id),
        published_events_forgotten=forgotten,
    )
    return Erased(command.animator_id, command.centre_id, now=True)
