"""Erasing a person (RGPD), on the registry's ``person.erased``: in the transaction of the inbox
row, identity forgets the animator in its read model and, when the address is nobody's login for
another reason (no role of its own), ends the person's sessions, has every service refuse their
tokens, and deletes the person with their sessions and sign-in links. It logs counts only."""

import structlog
from crnt_shared.contracts.registry import PersonErased

from crnt_identity.handlers import IdentityUnitOfWork, revoke

log = structlog.get_logger(__name__)


async def on_person_erased(event: PersonErased, uow: IdentityUnitOfWork) -> None:
    data = event.data
    repository = uow.repository
    addresses = await repository.erased_addresses(data.animator_id, data.salt, data.email_digest)
    await repository.forget_animator(data.animator_id, addresses)
    people = await repository.people_without_roles(addresses)
    for person_id in people:
        await revoke(uow, person_id, "erased", event)
        await repository.delete_person(person_id)
    forgotten = await repository.forget_published_events(addresses)
    log.info(
        "person erased",
        animator_id=str(data.animator_id),
        people=len(people),
        published_events_forgotten=forgotten,
    )
