"""The EPCIs (intercommunalities): registered by the agency, each with its communes."""

from collections.abc import Sequence

from crnt_shared.contracts.registry import EpciData, EpciRegistered, EpciUpdated
from crnt_shared.errors import Conflict, NotFound

from crnt_registry.commands import RegisterEpci, UpdateEpci
from crnt_registry.handlers.common import RegistryUnitOfWork, publish
from crnt_registry.repository import Epci, RegistryRepository


async def register_epci(command: RegisterEpci, uow: RegistryUnitOfWork) -> Epci:
    repository = uow.repository
    epci = command.epci
    if await repository.epci(epci.siren) is not None:
        raise Conflict(f"EPCI {epci.siren} is registered already: update it with PATCH instead.")
    await _ensure_communes_free(repository, epci.siren, epci.communes)
    await repository.add_epci(epci)
    await publish(uow, EpciRegistered, epci.siren, _epci(epci))
    await uow.commit()
    return epci


async def update_epci(command: UpdateEpci, uow: RegistryUnitOfWork) -> Epci:
    repository = uow.repository
    current = await repository.epci(command.siren, for_update=True)
    if current is None:
        raise NotFound(f"There is no EPCI with SIREN {command.siren}: register it first.")
    updated = Epci(
        siren=current.siren,
        name=current.name if command.name is None else command.name,
        population=current.population if command.population is None else command.population,
        communes=current.communes if command.communes is None else command.communes,
    )
    if updated == current:
        return current
    await _ensure_communes_free(repository, updated.siren, updated.communes)
    await repository.update_epci(updated)
    await publish(uow, EpciUpdated, updated.siren, _epci(updated))
    await uow.commit()
    return updated


async def _ensure_communes_free(
    repository: RegistryRepository, siren: str, communes: Sequence[str]
) -> None:
    owners = await repository.commune_owners(communes)
    taken = {code: owner for code, owner in owners.items() if owner != siren}
    if taken:
        listed = ", ".join(f"{code} (EPCI {owner})" for code, owner in sorted(taken.items()))
        raise Conflict(
            f"A commune belongs to one EPCI only, and these are listed already: {listed}."
            " Remove them from that EPCI first."
        )


def _epci(epci: Epci) -> EpciData:
    return EpciData(
        siren=epci.siren, name=epci.name, population=epci.population, communes=epci.communes
    )
