"""The budget's HTTP API under ``/api/v1``: thin adapters from requests to handlers.

``PUT /budgets/{year}`` needs the agency's token; every read is open (public-sector data).
Amounts are decimal strings of euros with at most 2 decimals, ratios decimal strings in [0, 1]:
JSON numbers are refused, since a float cannot carry a cent exactly.
"""

from typing import Annotated, Any, Literal

from crnt_shared.auth import Actor, Role
from crnt_shared.http import NotFound
from crnt_shared.runtime import ServiceRuntime
from fastapi import APIRouter, Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from crnt_budget import domain, handlers
from crnt_budget.repository import CentreShareRow, EpciShareRow, Repository, VersionRow
from crnt_budget.settings import BudgetSettings

MIN_YEAR, MAX_YEAR = 2000, 2100


def _money(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError(
            "money_type",
            'amounts are decimal strings of euros such as "1234.56", not numbers: '
            "write {value} in quotes",
            {"value": repr(value)},
        )
    try:
        return domain.parse_cents(value)
    except domain.InvalidAmount as error:
        raise PydanticCustomError("money", str(error)) from error


def _ratio(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError(
            "ratio_type",
            'ratios are decimal strings between 0 and 1 such as "0.5", not numbers: '
            "write {value} in quotes",
            {"value": repr(value)},
        )
    try:
        domain.parse_ratio(value)
    except domain.InvalidAmount as error:
        raise PydanticCustomError("ratio", str(error)) from error
    return value.strip()


_MONEY_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["30000.00"]}
_RATIO_SCHEMA = {"type": "string", "pattern": r"^[01](\.\d+)?$", "examples": ["0.5"]}
Money = Annotated[int, BeforeValidator(_money), WithJsonSchema(_MONEY_SCHEMA)]
OptionalMoney = Annotated[
    int | None, BeforeValidator(_money), WithJsonSchema({**_MONEY_SCHEMA, "nullable": True})
]
Ratio = Annotated[str, BeforeValidator(_ratio), WithJsonSchema(_RATIO_SCHEMA)]
OptionalRatio = Annotated[
    str | None, BeforeValidator(_ratio), WithJsonSchema({**_RATIO_SCHEMA, "nullable": True})
]
Year = Annotated[
    int, Path(ge=MIN_YEAR, le=MAX_YEAR, description=f"The budget's year, {MIN_YEAR}–{MAX_YEAR}.")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CentreKeyIn(_Strict):
    fixed_ratio: Ratio = Field(description="Part of the envelope split equally among members.")
    weight: Literal["workstations", "none"] = Field(
        description="What the rest is split by: the public workstations, or nothing (equally)."
    )


class FunderIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    amount: OptionalMoney = Field(default=None, description="A fixed amount…")
    rate: OptionalRatio = Field(default=None, description="…or a rate of the eligible expenses")
    ceiling: OptionalMoney = Field(default=None, description="capped by this (with a rate).")

    @model_validator(mode="after")
    def _one_way(self) -> "FunderIn":
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"funder {self.name!r} needs exactly one of an amount or a rate")
        if self.ceiling is not None and self.rate is None:
            raise ValueError(f"funder {self.name!r} has a ceiling without a rate")
        return self

    def to_domain(self) -> domain.Funder:
        rate = None if self.rate is None else domain.parse_ratio(self.rate)
        return domain.Funder(self.name, amount=self.amount, rate=rate, ceiling=self.ceiling)


class BudgetIn(_Strict):
    envelope: Money = Field(description="The envelope shared among the member centres.")
    centre_key: CentreKeyIn
    epci_contribution: Money = Field(
        description="What the EPCIs pay together (reste à charge), split by `epci_key`."
    )
    epci_key: Literal["population", "member_centres"]
    funders: list[FunderIn] = Field(default_factory=list, max_length=50)

    def to_domain(self) -> domain.BudgetConfig:
        return domain.BudgetConfig(
            envelope=self.envelope,
            centre_key=domain.CentreKey(
                domain.parse_ratio(self.centre_key.fixed_ratio),
                domain.CentreWeight(self.centre_key.weight),
            ),
            epci_contribution=self.epci_contribution,
            epci_key=domain.EpciKey(self.epci_key),
            funders=tuple(funder.to_domain() for funder in self.funders),
        )


_EXAMPLE = {
    "envelope": "30000.00",
    "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
    "epci_contribution": "12000.00",
    "epci_key": "population",
    "funders": [
        {"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"},
        {"name": "FEDER", "rate": "0.5", "ceiling": "10000.00"},
    ],
}


def build_router(runtime: ServiceRuntime, settings: BudgetSettings) -> APIRouter:
    router = APIRouter(tags=["budgets"])
    agency = runtime.auth.require(Role.AGENCY)

    async def latest(repository: Repository, year: int) -> tuple[Any, VersionRow]:
        budget = await repository.budget(year)
        if budget is None or budget.latest_version == 0:
            raise NotFound(
                f"There is no budget for {year} yet: the agency configures it with "
                f"PUT /api/v1/budgets/{year}."
            )
        version = await repository.version(year, budget.latest_version)
        assert version is not None
        return budget, version

    async def budget_view(year: int) -> dict[str, Any]:
        async with runtime.pool.acquire() as connection:
            repository = Repository(connection)
            budget, version = await latest(repository, year)
            view = await _version_view(repository, version)
        return {
            "year": year,
            "revision": budget.revision,
            "configured_at": budget.configured_at,
            **view,
        }

    @router.put(
        "/budgets/{year}",
        summary="Configure or revise a year's budget (a new version of its shares)",
        openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}}},
    )
    async def put_budget(
        year: Year, actor: Annotated[Actor, agency], body: BudgetIn
    ) -> dict[str, Any]:
        command = handlers.ConfigureBudget(year, body.to_domain(), by=actor.label)
        async with runtime.unit_of_work() as uow:
            await handlers.configure_budget(command, uow, settings.publish_topic)
        return await budget_view(year)

    @router.get("/budgets/{year}", summary="A year's budget: configuration, plan, latest shares")
    async def get_budget(year: Year) -> dict[str, Any]:
        return await budget_view(year)

    @router.get("/budgets/{year}/shares", summary="The latest shares of centres and EPCIs")
    async def get_shares(year: Year) -> dict[str, Any]:
        async with runtime.pool.acquire() as connection:
            repository = Repository(connection)
            _, version = await latest(repository, year)
            view = await _version_view(repository, version)
        keys = ("year", "version", "computed_at", "envelope", "allocated", "epci_contribution")
        return {
            **{key: view[key] for key in keys},
            "centres": view["centres"],
            "epcis": view["epcis"],
            "cause": view["cause"],
        }

    @router.get("/budgets/{year}/versions", summary="Every version of a year's shares")
    async def list_versions(year: Year) -> dict[str, Any]:
        async with runtime.pool.acquire() as connection:
            repository = Repository(connection)
            await latest(repository, year)
            versions = await repository.versions(year)
        return {"year": year, "items": [_version_summary(v) for v in versions]}

    @router.get("/budgets/{year}/versions/{version}", summary="One version of a year's shares")
    async def get_version(
        year: Year, version: Annotated[int, Path(ge=1, description="The version number.")]
    ) -> dict[str, Any]:
        async with runtime.pool.acquire() as connection:
            repository = Repository(connection)
            found = await repository.version(year, version)
            if found is None:
                raise NotFound(f"The budget of {year} has no version {version}.")
            return await _version_view(repository, found)

    return router


def _version_summary(version: VersionRow) -> dict[str, Any]:
    money = domain.format_cents
    cause = version.cause
    return {
        "version": version.version,
        "computed_at": version.computed_at,
        "cause": {"kind": cause["kind"], "by": cause["by"], "event_count": cause["event_count"]},
        "envelope": money(version.envelope_cents),
        "allocated": money(version.allocated_cents),
        "epci_contribution": money(version.epci_contribution_cents),
        "member_count": version.member_count,
        "changed_centres": version.changed_centres,
        "financing_status": version.financing["status"],
    }


async def _version_view(repository: Repository, version: VersionRow) -> dict[str, Any]:
    centres = await repository.centre_shares(version.year, version.version)
    epcis = await repository.epci_shares(version.year, version.version)
    return {
        "year": version.year,
        **_version_summary(version),
        "unallocated": domain.format_cents(version.envelope_cents - version.allocated_cents),
        "configuration": version.configuration,
        "financing_plan": version.financing,
        "cause": version.cause,
        "centres": [_centre(c) for c in centres],
        "epcis": [_epci(e) for e in epcis],
    }


def _centre(row: CentreShareRow) -> dict[str, Any]:
    money = domain.format_cents
    return {
        "centre_id": str(row.centre_id),
        "name": row.name,
        "epci_siren": row.epci_siren,
        "workstations": row.workstations,
        "member": row.is_member,
        "amount": money(row.amount_cents),
        "previous": money(row.previous_cents),
        "change": money(row.amount_cents - row.previous_cents),
    }


def _epci(row: EpciShareRow) -> dict[str, Any]:
    money = domain.format_cents
    return {
        "siren": row.siren,
        "name": row.name,
        "population": row.population,
        "member_centres": row.member_centres,
        "amount": money(row.amount_cents),
        "previous": money(row.previous_cents),
        "change": money(row.amount_cents - row.previous_cents),
    }
