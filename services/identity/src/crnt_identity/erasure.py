"""Erasing a person (RGPD), on the registry's ``person.erased``: in the transaction of the inbox
row, identity forgets the animator in its read model and, when the address is nobody's login for
another reason (no role of its own), ends the person's sessions, has every service refuse their
tokens, and deletes the person with their sessions and sign-in links. It logs counts only."""

import structlog
from crnt_shared.contracts.registry import PersonErased
from crnt_shared.db import UnitOfWork
from crnt_shared.erasure import digest_matches, forget_published_events

from crnt_identity.handlers import revoke

log = structlog.get_logger(__name__)

_ADDRESSES = f"""
SELECT email AS address FROM animators WHERE animator_id = $1
UNION SELECT email FROM animators WHERE {digest_matches("email", "$2", "$3")}
UNION SELECT email FROM people WHERE {digest_matches("email", "$2", "$3")}
"""


async def on_person_erased(event: PersonErased, uow: UnitOfWork) -> None:
    data = event.data
    connection = uow.connection
    rows = await connection.fetch(_ADDRESSES, data.animator_id, data.salt, data.email_digest)
    addresses = sorted({row["address"] for row in rows})
    await connection.execute(
        "DELETE FROM animators WHERE animator_id = $1 OR email = ANY($2::text[])",
        data.animator_id,
        addresses,
    )
    people = await connection.fetch(
        "SELECT id FROM people WHERE email = ANY($1::text[]) AND roles = '{}'", addresses
    )
    for person in people:
        await revoke(uow, person["id"], "erased", event)
        await connection.execute("DELETE FROM sign_in_links WHERE person_id = $1", person["id"])
        await connection.execute("DELETE FROM sessions WHERE person_id = $1", person["id"])
        await connection.execute("DELETE FROM people WHERE id = $1", person["id"])
    forgotten = await forget_published_events(connection, addresses)
    log.info(
        "person erased",
        animator_id=str(data.animator_id),
        people=len(people),
        published_events_forgotten=forgotten,
    )
