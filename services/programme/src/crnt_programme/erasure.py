"""Erasing a person (RGPD), on the registry's ``person.erased``: the programme holds no address,
but its actions' history names who made each change; the erased person's name becomes the
pseudonym there, in the transaction of the inbox row. The person's id stays, as it does on
every event that referred to them, so that the history still tells changes of one person apart.
"""

import structlog
from crnt_shared.contracts.registry import PersonErased
from crnt_shared.db import UnitOfWork
from crnt_shared.erasure import ERASED_NAME

log = structlog.get_logger(__name__)


async def on_person_erased(event: PersonErased, uow: UnitOfWork) -> None:
    changed = await uow.connection.execute(
        "UPDATE action_history SET by = $2,"
        " details = jsonb_set(details, '{by_actor,name}', to_jsonb($2::text))"
        " WHERE details -> 'by_actor' ->> 'id' = $1",
        str(event.data.person_id),
        ERASED_NAME,
    )
    log.info("person erased", person_id=str(event.data.person_id), history=int(changed.split()[-1]))
