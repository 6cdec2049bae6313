"""Erasing a person (RGPD), on the registry's ``person.erased``: the programme holds no address,
but its actions' history names who made each change; the erased person's name becomes the
pseudonym there, in the transaction of the inbox row. The person's id stays, as it does on
every event that referred to them, so that the history still tells changes of one person apart.
"""

import structlog
from crnt_shared.contracts.registry import PersonErased
from crnt_shared.erasure import ERASED_NAME

from crnt_programme.handlers.common import ProgrammeUnitOfWork

log = structlog.get_logger(__name__)


async def on_person_erased(event: PersonErased, uow: ProgrammeUnitOfWork) -> None:
    person_id = str(event.data.person_id)
    changed = await uow.repository.erase_from_history(person_id, ERASED_NAME)
    log.info("person erased", person_id=person_id, history=changed)
