"""What the registry publishes of an erased animator (``person.erased``), built in one place: by
the registry's erasure, and by the tests of the services that consume it (see
:mod:`crnt_shared.erasure` for why the address travels only as a salted digest)."""

from datetime import datetime
from uuid import UUID

from crnt_shared.auth import person_id_for
from crnt_shared.contracts.identity import Actor
from crnt_shared.contracts.registry import PersonErasedData
from crnt_shared.erasure import address_digest, new_salt


def person_erased_data(
    animator_id: UUID, centre_id: UUID, email: str, at: datetime, actor: Actor = None
) -> PersonErasedData:
    """The animator's and the person's ids, and the address's digest under a new salt."""
    salt = new_salt()
    return PersonErasedData(
        animator_id=animator_id,
        centre_id=centre_id,
        person_id=person_id_for(email),
        salt=salt,
        email_digest=address_digest(email, salt),
        at=at,
        actor=actor,
    )
