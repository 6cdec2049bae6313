"""What the registry's use cases share: the unit of work they take, how they publish, the centre
and the EPCI they load or refuse (the facts their events carry are in :mod:`.facts`)."""

from datetime import date
from uuid import UUID

from crnt_shared.db import AbstractUnitOfWork
from crnt_shared.errors import Conflict, Invalid, NotFound
from crnt_shared.events import utcnow
from crnt_shared.publishing import Publisher
from pydantic import ValidationError

from crnt_registry.domain import PIVOT_PLACEHOLDER, CentreDraft, resolve_epci
from crnt_registry.repository import Centre, RegistryRepository

SOURCE = "/crnt/registry"
#: How every handler of the registry publishes: ``await publish(uow, Contract, subject, data)``.
publish = Publisher(SOURCE)
#: Who the history names for what the registry does by itself (an expiry).
REGISTRY_ACTOR = "registry"

#: What every handler of the registry takes: the runtime's unit of work, or the unit tests' fake.
RegistryUnitOfWork = AbstractUnitOfWork[RegistryRepository]


async def with_epci(repository: RegistryRepository, facts: CentreDraft) -> CentreDraft:
    """The centre's facts with the EPCI resolved and known to the registry."""
    owners = await repository.commune_owners([facts.code_insee])
    try:
        siren = resolve_epci(facts.code_insee, facts.epci_siren, owners.get(facts.code_insee))
    except ValueError as error:
        raise Invalid(f"{error}.") from error
    if await repository.epci(siren) is None:
        raise Invalid(unregistered_epci(siren))
    return facts.model_copy(update={"epci_siren": siren})


async def ensure_pivot_free(
    repository: RegistryRepository, pivot: str, exclude: UUID | None
) -> None:
    if pivot == PIVOT_PLACEHOLDER:
        return
    holder = (await repository.live_centres_with_pivots([pivot])).get(pivot)
    if holder is not None and holder != exclude:
        raise Conflict(pivot_taken(holder, pivot), centre_id=str(holder))


def unregistered_epci(siren: str) -> str:
    return (
        f"EPCI {siren} is not registered: the agency registers it first"
        " (POST /api/v1/epcis), or fix epci_siren."
    )


def pivot_taken(holder: UUID, pivot: str) -> str:
    return (
        f"Centre {holder} with pivot {pivot} is already pending, member or suspended:"
        " the same place cannot apply twice."
    )


async def existing_centre(
    repository: RegistryRepository, centre_id: UUID, *, for_update: bool = False
) -> Centre:
    centre = await repository.centre(centre_id, for_update=for_update)
    if centre is None:
        raise no_centre(centre_id)
    return centre


def no_centre(centre_id: UUID) -> NotFound:
    return NotFound(f"There is no centre {centre_id}: list them with GET /api/v1/centres.")


def epci_of(facts: CentreDraft) -> str:
    assert facts.epci_siren is not None, "resolved by with_epci"
    return facts.epci_siren


def today() -> date:
    return utcnow().date()


def invalid(error: ValidationError, *, prefix: str) -> Invalid:
    """A 422 naming each invalid field, from a pydantic error."""
    fields = [
        {
            "field": ".".join(str(part) for part in (prefix, *item["loc"]) if part != ""),
            "message": item["msg"],
        }
        for item in error.errors()
    ]
    sentence = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:10])
    return Invalid(f"The request is not valid. {sentence}.", errors=fields)
