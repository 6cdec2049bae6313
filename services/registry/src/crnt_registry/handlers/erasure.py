"""Erasing an animator (RGPD): the registry pseudonymises its copy, forgets the published events
that named the address, and publishes ``person.erased`` for every other service to do the same.

Only the agency erases, and only the animators of a centre that left or never joined (rejected,
expired, withdrawn): a member's or a suspended centre's animators are the network's contacts."""

import structlog
from crnt_shared.contracts.registry import PersonErased
from crnt_shared.erasure import ERASED_NAME, erased_address
from crnt_shared.errors import Conflict, NotFound
from crnt_shared.events import utcnow
from crnt_shared.person_erased import person_erased_data

from crnt_registry.commands import EraseAnimator, Erased
from crnt_registry.domain import CLOSED
from crnt_registry.handlers.common import RegistryUnitOfWork, no_centre, publish

log = structlog.get_logger(__name__)


async def erase_animator(command: EraseAnimator, uow: RegistryUnitOfWork) -> Erased:
    repository = uow.repository
    status = await repository.centre_status(command.centre_id, for_update=True)
    if status is None:
        raise no_centre(command.centre_id)
    if status not in CLOSED:
        raise Conflict(
            f"The centre is {status}: only the animators of a rejected, expired or withdrawn"
            " centre can be erased. Withdraw its membership first, or remove the animator.",
            current_status=status,
        )
    found = await repository.animator_address(command.centre_id, command.animator_id)
    if found is None:
        raise NotFound(
            f"Centre {command.centre_id} has no animator {command.animator_id}: list its animators."
        )
    email, erased_at = found
    if erased_at is not None:
        return Erased(command.animator_id, command.centre_id, now=False)
    elsewhere = await repository.open_centre_of(email, besides=command.animator_id)
    if elsewhere is not None:
        other, other_status = elsewhere
        raise Conflict(
            f"This person also animates centre {other}, which is {other_status}:"
            " remove them from it first, then erase them here.",
            centre_id=str(other),
        )
    now = utcnow()
    forgotten = await repository.erase_animator(
        command.animator_id, email, ERASED_NAME, erased_address(command.animator_id), now
    )
    data = person_erased_data(command.animator_id, command.centre_id, email, now, command.actor)
    await publish(uow, PersonErased, command.centre_id, data)
    await uow.commit()
    log.info(
        "person erased",
        animator_id=str(command.animator_id),
        centre_id=str(command.centre_id),
        published_events_forgotten=forgotten,
    )
    return Erased(command.animator_id, command.centre_id, now=True)
