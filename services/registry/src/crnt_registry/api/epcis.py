"""``/epcis``: the intercommunalities, registered and changed by the agency, read by anyone."""

from typing import Any

from crnt_shared.callers import AGENCY
from crnt_shared.errors import NotFound
from fastapi import APIRouter
from pydantic import Field, field_validator

from crnt_registry import commands, handlers
from crnt_registry.api.common import Limit, Offset, Runtime, Strict, page
from crnt_registry.api.views import epci_out
from crnt_registry.domain import CodeInsee, Siren, Text
from crnt_registry.repository import Epci

router = APIRouter(tags=["epcis"])


class EpciIn(Strict):
    siren: Siren
    name: Text
    population: int = Field(ge=0, le=100_000_000)
    communes: list[CodeInsee] = Field(default_factory=list, max_length=5000)

    @field_validator("communes")
    @classmethod
    def _distinct(cls, communes: list[str]) -> list[str]:
        return sorted(set(communes))


class EpciPatch(Strict):
    name: Text | None = None
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    communes: list[CodeInsee] | None = Field(default=None, max_length=5000)

    @field_validator("communes")
    @classmethod
    def _distinct(cls, communes: list[str] | None) -> list[str] | None:
        return None if communes is None else sorted(set(communes))


@router.post("/epcis", status_code=201, dependencies=[AGENCY])
async def register_epci(body: EpciIn, runtime: Runtime) -> dict[str, Any]:
    epci = Epci(body.siren, body.name, body.population, body.communes)
    return epci_out(await runtime.run(handlers.register_epci, commands.RegisterEpci(epci)))


@router.get("/epcis")
async def list_epcis(runtime: Runtime, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    found = await runtime.read(lambda r: r.epcis(limit=limit, offset=offset))
    return page(found, limit, offset, epci_out)


@router.get("/epcis/{siren}")
async def get_epci(siren: str, runtime: Runtime) -> dict[str, Any]:
    epci = await runtime.read(lambda r: r.epci(siren))
    if epci is None:
        raise NotFound(f"There is no EPCI with SIREN {siren}.")
    return epci_out(epci)


@router.patch("/epcis/{siren}", dependencies=[AGENCY])
async def update_epci(siren: str, body: EpciPatch, runtime: Runtime) -> dict[str, Any]:
    command = commands.UpdateEpci(siren, body.name, body.population, body.communes)
    return epci_out(await runtime.run(handlers.update_epci, command))
