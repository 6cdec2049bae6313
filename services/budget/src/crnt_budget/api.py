"""The budget's HTTP API under ``/api/v1``: thin adapters from requests to handlers.

Writes (``PUT /budgets/{year}``, participations, closing) need the agency's token; every read
is open (public-sector data).
Amounts are decimal strings of euros with at most 2 decimals, ratios decimal strings in [0, 1]:
JSON numbers are refused, since a float cannot carry a cent exactly.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from crnt_shared import samples
from crnt_shared.auth import Actor, Role
from crnt_shared.contracts.programme import AXES
from crnt_shared.http import Conflict, NotFound
from crnt_shared.problems import problems
from crnt_shared.runtime import ServiceRuntime
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from crnt_budget import documents, domain, handlers
from crnt_budget.repository import (
    BudgetRepository,
    BudgetRow,
    CentreShareRow,
    EpciShareRow,
    ParticipationRow,
    VersionRow,
)
from crnt_budget.settings import BudgetSettings

MIN_YEAR, MAX_YEAR = 2000, 2100
_Parsed = TypeVar("_Parsed")


def _decimal_string(
    kind: str, what: str, parse: Callable[[str], _Parsed]
) -> Callable[[Any], _Parsed | None]:
    """A validator of the decimal strings ``parse`` reads: a JSON number is refused, since a
    float cannot carry a cent exactly; ``what`` says what the field takes."""

    def validate(value: Any) -> _Parsed | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise PydanticCustomError(
                f"{kind}_type",
                what + ", not numbers: write {value} in quotes",
                {"value": repr(value)},
            )
        try:
            return parse(value)
        except domain.InvalidAmount as error:
            raise PydanticCustomError(kind, str(error)) from error

    return validate


def _checked_ratio(value: str) -> str:
    domain.parse_ratio(value)
    return value.strip()


_money = _decimal_string(
    "money", 'amounts are decimal strings of euros such as "1234.56"', domain.parse_cents
)
_ratio = _decimal_string(
    "ratio", 'ratios are decimal strings between 0 and 1 such as "0.5"', _checked_ratio
)

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


Nature = Literal["fonctionnement", "investissement"]


class BaseIn(_Strict):
    """The expenses a rate applies to: those matching every criterion given."""

    natures: list[Nature] = Field(default_factory=list)
    axes: list[str] = Field(default_factory=list, description=f"Among {', '.join(AXES)}.")

    @model_validator(mode="after")
    def _known_axes(self) -> "BaseIn":
        unknown = sorted(set(self.axes) - set(AXES))
        if unknown:
            raise ValueError(f"unknown axes {unknown}: the axes are {', '.join(AXES)}")
        return self

    lines: list[str] = Field(
        default_factory=list, description="Keys of network lines, or `dotations`."
    )

    def to_domain(self) -> domain.Base:
        return domain.Base(
            natures=tuple(domain.Nature(n) for n in self.natures),
            axes=tuple(self.axes),
            lines=tuple(self.lines),
        )


class FunderIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    amount: OptionalMoney = Field(default=None, description="A fixed amount…")
    rate: OptionalRatio = Field(default=None, description="…or a rate of an eligible base")
    ceiling: OptionalMoney = Field(default=None, description="capped by this (with a rate).")
    base: BaseIn | None = Field(default=None, description="What the rate applies to; all if none.")

    @model_validator(mode="after")
    def _one_way(self) -> "FunderIn":
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"funder {self.name!r} needs exactly one of an amount or a rate")
        if self.ceiling is not None and self.rate is None:
            raise ValueError(f"funder {self.name!r} has a ceiling without a rate")
        if self.base is not None and self.rate is None:
            raise ValueError(f"funder {self.name!r} has an eligible base without a rate")
        return self

    def to_domain(self) -> domain.Funder:
        rate = None if self.rate is None else domain.parse_ratio(self.rate)
        base = domain.Base() if self.base is None else self.base.to_domain()
        return domain.Funder(
            self.name, amount=self.amount, rate=rate, ceiling=self.ceiling, base=base
        )


class NetworkLineIn(_Strict):
    id: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: str = Field(min_length=1, max_length=200)
    nature: Nature = "fonctionnement"
    estimated: Money
    actual: OptionalMoney = None


class BudgetIn(_Strict):
    envelope: Money = Field(description="The centres' dotations: shared among member centres.")
    centre_key: CentreKeyIn
    epci_key: Literal["population", "member_centres", "fixed_shares"] = Field(
        description="How the reste à charge is split among the EPCIs that have member centres."
    )
    fixed_shares: dict[str, Ratio] | None = Field(
        default=None, description="With `fixed_shares`: each EPCI's share by SIREN."
    )
    funders: list[FunderIn] = Field(default_factory=list, max_length=50)
    network_lines: list[NetworkLineIn] = Field(default_factory=list, max_length=100)
    epci_contribution: Any = Field(
        default=None,
        description="Refused: the EPCIs' contribution is the reste à charge, computed.",
        json_schema_extra={"deprecated": True},
    )

    @model_validator(mode="after")
    def _coherent(self) -> "BudgetIn":
        if self.epci_contribution is not None:
            raise ValueError(
                "epci_contribution is no longer given: the EPCIs pay the reste à charge"
                " (expenses − grants), computed by the plan; remove the field"
            )
        ids = [line.id for line in self.network_lines]
        if len(set(ids)) != len(ids) or domain.DOTATIONS in ids:
            raise ValueError(
                f"network line ids must be distinct and not {domain.DOTATIONS!r}: {ids}"
            )
        if self.epci_key == "fixed_shares" and not self.fixed_shares:
            raise ValueError("epci_key fixed_shares needs fixed_shares: a ratio per EPCI SIREN")
        if self.epci_key != "fixed_shares" and self.fixed_shares:
            raise ValueError("fixed_shares go with epci_key fixed_shares")
        if self.fixed_shares:
            bad = [siren for siren in self.fixed_shares if not re.fullmatch(r"\d{9}", siren)]
            if bad:
                raise ValueError(f"fixed_shares are keyed by SIREN (9 digits): {bad}")
        return self

    def to_domain(self) -> domain.BudgetConfig:
        return domain.BudgetConfig(
            envelope=self.envelope,
            centre_key=domain.CentreKey(
                domain.parse_ratio(self.centre_key.fixed_ratio),
                domain.CentreWeight(self.centre_key.weight),
            ),
            epci_key=domain.EpciKey(self.epci_key),
            funders=tuple(funder.to_domain() for funder in self.funders),
            network_lines=tuple(
                domain.NetworkLine(
                    line.id, line.label, domain.Nature(line.nature), line.estimated, line.actual
                )
                for line in self.network_lines
            ),
            fixed_shares=None
            if self.fixed_shares is None
            else {s: domain.parse_ratio(r) for s, r in self.fixed_shares.items()},
        )


class ParticipationIn(_Strict):
    amount: Money = Field(description="The participation the council voted for the year.")
    deliberation_number: str = Field(min_length=1, max_length=100)
    deliberation_date: date


_EXAMPLE = samples.worked_budget()
Siren = Annotated[str, Path(pattern=r"^\d{9}$", description="The EPCI's SIREN.")]
VersionQuery = Annotated[
    int | None, Query(ge=1, description="The version; the latest when not given.")
]


def build_router(runtime: ServiceRuntime[BudgetRepository], settings: BudgetSettings) -> APIRouter:
    router = APIRouter(tags=["budgets"])
    agency = runtime.auth.require(Role.AGENCY)

    async def budget_of(repository: BudgetRepository, year: int) -> BudgetRow:
        budget = await repository.budget(year)
        if budget is None:
            raise _no_budget(domain.NoBudget(year))
        return budget

    async def latest(repository: BudgetRepository, year: int) -> tuple[BudgetRow, VersionRow]:
        budget = await budget_of(repository, year)
        if budget.latest_version == 0:
            missing = (budget.waiting or {}).get("missing", [])
            raise Conflict(
                f"The {year} budget has no version yet: it waits for "
                + "; ".join(missing or ["its first computation"])
                + "."
            )
        version = await repository.version(year, budget.latest_version)
        assert version is not None
        return budget, version

    async def chosen(repository: BudgetRepository, year: int, number: int | None) -> VersionRow:
        if number is None:
            return (await latest(repository, year))[1]
        found = await repository.version(year, number)
        if found is None:
            raise NotFound(f"The budget of {year} has no version {number}.")
        return found

    async def budget_view(year: int) -> dict[str, Any]:
        return await runtime.read(lambda repository: read_budget(repository, year))

    async def read_budget(repository: BudgetRepository, year: int) -> dict[str, Any]:
        budget = await budget_of(repository, year)
        head = {
            "year": year,
            "revision": budget.revision,
            "configured_at": budget.configured_at,
            "closed_at": budget.closed_at,
            "waiting": budget.waiting,
        }
        if budget.latest_version == 0:
            return {**head, "version": None, "configuration": budget.configuration}
        version = await repository.version(year, budget.latest_version)
        assert version is not None
        view = await _version_view(repository, version)
        return {**view, **head}

    async def run(call: Any) -> Any:
        try:
            async with runtime.unit_of_work() as uow:
                return await call(uow)
        except domain.NoBudget as error:
            raise _no_budget(error) from error

    @router.put(
        "/budgets/{year}",
        summary="Configure or revise a year's budget (a new version of its plan and shares)",
        openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}}},
    )
    async def put_budget(
        year: Year, actor: Annotated[Actor, agency], body: BudgetIn
    ) -> dict[str, Any]:
        command = handlers.ConfigureBudget(year, body.to_domain(), by=actor.label)
        await run(lambda uow: handlers.configure_budget(command, uow, settings.publish_topic))
        return await budget_view(year)

    @router.put(
        "/budgets/{year}/participations/{siren}",
        summary="Record the participation an EPCI's council voted (a new version compares it)",
    )
    async def put_participation(
        year: Year, siren: Siren, actor: Annotated[Actor, agency], body: ParticipationIn
    ) -> dict[str, Any]:
        command = handlers.RecordParticipation(
            year,
            ParticipationRow(siren, body.amount, body.deliberation_number, body.deliberation_date),
            by=actor.label,
        )
        await run(lambda uow: handlers.record_participation(command, uow, settings.publish_topic))
        return await budget_view(year)

    @router.post(
        "/budgets/{year}/close", summary="Close a year: nothing recalculates it afterwards"
    )
    async def close(year: Year, actor: Annotated[Actor, agency]) -> dict[str, Any]:
        command = handlers.CloseYear(year, by=actor.label)
        await run(lambda uow: handlers.close_year(command, uow))
        return await budget_view(year)

    @router.get("/budgets/{year}", summary="A year's budget: configuration, plan, latest shares")
    async def get_budget(year: Year) -> dict[str, Any]:
        return await budget_view(year)

    @router.get("/budgets/{year}/plan", summary="The financing plan of a version")
    @problems(409)
    async def get_plan(year: Year, version: VersionQuery = None) -> dict[str, Any]:
        async def query(repository: BudgetRepository) -> tuple[VersionRow, list[EpciShareRow]]:
            found = await chosen(repository, year, version)
            return found, await repository.epci_shares(year, found.version)

        found, epcis = await runtime.read(query)
        return {
            "year": year,
            "version": found.version,
            "computed_at": found.computed_at,
            "cause": found.cause,
            **found.financing,
            "epcis": [_epci(e) for e in epcis],
        }

    @router.get(
        "/budgets/{year}/annex.{fmt}",
        summary="The budget annex a council votes (ODS, XLSX or PDF) for a version",
        response_class=Response,
        responses={200: {"content": {media: {} for media in documents.MEDIA.values()}}},
    )
    @problems(409)
    async def annex(
        year: Year, fmt: Literal["ods", "xlsx", "pdf"], version: VersionQuery = None
    ) -> Response:
        async def query(
            repository: BudgetRepository,
        ) -> tuple[VersionRow, list[EpciShareRow], list[CentreShareRow]]:
            found = await chosen(repository, year, version)
            epcis = await repository.epci_shares(year, found.version)
            return found, epcis, await repository.centre_shares(year, found.version)

        found, epcis, centres = await runtime.read(query)
        content = documents.annex(found, epcis, centres, fmt)
        filename = f"budget-{year}-v{found.version}-annexe.{fmt}"
        return Response(
            content,
            media_type=documents.MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/budgets/{year}/shares", summary="The latest dotations and EPCI parts")
    @problems(409)
    async def get_shares(year: Year) -> dict[str, Any]:
        async def query(repository: BudgetRepository) -> dict[str, Any]:
            _, version = await latest(repository, year)
            return await _version_view(repository, version)

        view = await runtime.read(query)
        keys = ("year", "version", "computed_at", "envelope", "allocated", "epci_contribution")
        return {
            **{key: view[key] for key in keys},
            "centres": view["centres"],
            "epcis": view["epcis"],
            "cause": view["cause"],
        }

    @router.get("/budgets/{year}/versions", summary="Every version of a year's budget")
    async def list_versions(year: Year) -> dict[str, Any]:
        async def query(repository: BudgetRepository) -> list[VersionRow]:
            await budget_of(repository, year)
            return await repository.versions(year)

        versions = await runtime.read(query)
        return {"year": year, "items": [_version_summary(v) for v in versions]}

    @router.get("/budgets/{year}/versions/{version}", summary="One version of a year's budget")
    async def get_version(
        year: Year, version: Annotated[int, Path(ge=1, description="The version number.")]
    ) -> dict[str, Any]:
        async def query(repository: BudgetRepository) -> dict[str, Any]:
            return await _version_view(repository, await chosen(repository, year, version))

        return await runtime.read(query)

    return router


def _no_budget(error: domain.NoBudget) -> NotFound:
    return NotFound(f"{error}: the agency configures it with PUT /api/v1/budgets/{error.year}.")


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
        "reste_a_charge": version.financing.get("reste_a_charge"),
    }


async def _version_view(repository: BudgetRepository, version: VersionRow) -> dict[str, Any]:
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
    voted = None
    if row.voted_cents is not None:
        voted = {
            "amount": money(row.voted_cents),
            "deliberation_number": row.deliberation_number,
            "deliberation_date": row.deliberation_date,
        }
    return {
        "siren": row.siren,
        "name": row.name,
        "population": row.population,
        "member_centres": row.member_centres,
        "amount": money(row.amount_cents),
        "previous": money(row.previous_cents),
        "change": money(row.amount_cents - row.previous_cents),
        "voted": voted,
        "exceeds_voted": row.exceeds_voted,
    }
