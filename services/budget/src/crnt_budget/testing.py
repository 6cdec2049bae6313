"""For tests and benchmarks of the budget (as ``crnt_shared.testing`` is for every service):
registry and programme events built with their services' own contracts, producers standing in
for those services, a collector of the budget's events, a valid ``PUT /budgets/{year}`` body,
and readers of the budget's API and database."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Self

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from crnt_shared.contracts.budget import BUDGET_EVENTS, DotationsChanged
from crnt_shared.contracts.programme import (
    AXES,
    ActionFacts,
    ActionUpdated,
    ActionUpdatedData,
    ProgrammeValidated,
    ProgrammeValidatedData,
    ValidatedAction,
)
from crnt_shared.contracts.registry import (
    CentreFacts,
    CentreUpdated,
    CentreUpdatedData,
    EpciData,
    EpciRegistered,
    MembershipChangeData,
)
from crnt_shared.events import Event, EventCatalog, utcnow
from crnt_shared.money import amount_from_cents, cents_from_amount

BUDGET_CATALOG = EventCatalog(BUDGET_EVENTS)
REGISTRY_SOURCE = "/crnt/registry"
PROGRAMME_SOURCE = "/crnt/programme"
CAPSO = ("200069037", "CA du Pays de Saint-Omer", 104_937)
CCPL = ("246201016", "CC du Pays de Lumbres", 24_187)
API = "/api/v1"
#: The year the integration tests configure: the current one, as the services see it.
YEAR = utcnow().year


class Published:
    """Every budget event read from a test's budget topic, with its key."""

    def __init__(self, records: list[tuple[bytes | None, Event]]) -> None:
        self._records = records

    @property
    def records(self) -> list[tuple[str, Event]]:
        return [(key.decode(), event) for key, event in self._records if key is not None]

    def of(self, kind: type[Event]) -> list[Any]:
        return [event for _, event in self.records if isinstance(event, kind)]


def centre(
    *, workstations: int = 4, epci: tuple[str, str, int] = CAPSO, status: str = "member"
) -> CentreFacts:
    centre_id = uuid.uuid4()
    return CentreFacts(
        id=centre_id,
        status=status,
        nom=f"EPN {centre_id.hex[:6]}",
        pivot="21620765800017",
        adresse="1 place Victor Hugo",
        code_postal="62500",
        commune="Saint-Omer",
        code_insee="62765",
        epci_siren=epci[0],
        epci_name=epci[1],
        typologie=["EPN"],
        workstations=workstations,
    )


def membership(kind: type[Event], facts: CentreFacts, previous: str, status: str) -> Event:
    data = MembershipChangeData(
        previous_status=previous,
        status=status,
        by="agency",
        at=utcnow(),
        centre=facts.model_copy(update={"status": status}),
        animators=[],
    )
    return kind.create(source=REGISTRY_SOURCE, subject=str(facts.id), data=data)


def centre_updated(facts: CentreFacts, changed: list[str]) -> Event:
    data = CentreUpdatedData(changed=changed, centre=facts, animators=[])
    return CentreUpdated.create(source=REGISTRY_SOURCE, subject=str(facts.id), data=data)


def epci_registered(epci: tuple[str, str, int]) -> Event:
    data = EpciData(siren=epci[0], name=epci[1], population=epci[2], communes=[])
    return EpciRegistered.create(source=REGISTRY_SOURCE, subject=epci[0], data=data)


def programme_validated(
    year: int,
    version: int,
    totals: Mapping[str, str],
    *,
    ids: Mapping[str, uuid.UUID] | None = None,
) -> Event:
    """The programme's validation of ``year``'s ``version``, with one planned action per axis
    of ``totals`` (euros, e.g. ``{"ateliers": "12000.00"}``); the other axes total ``0.00``.
    Shared equipment is an investment, the other axes operating costs (their default nature);
    ``ids`` gives the actions' ids by axis (new ones otherwise)."""
    totals_by_axis = dict.fromkeys(AXES, "0.00") | dict(totals)
    actions = [
        ValidatedAction(
            id=(ids or {}).get(axis) or uuid.uuid4(),
            axis=axis,
            title=f"{axis} {year}",
            status="planned",
            lead_centre_id=None,
            needs_lead=False,
            participants=[],
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            estimated_cost=amount,
        )
        for axis, amount in totals_by_axis.items()
        if cents_from_amount(amount) > 0
    ]
    data = ProgrammeValidatedData(
        year=year,
        version=version,
        validated_at=utcnow(),
        decided_on=date(year, 1, 15),
        deciding_body="Comité de pilotage",
        decision_reference=f"COPIL {year}-{version}",
        totals_by_axis=totals_by_axis,
        total=amount_from_cents(sum(cents_from_amount(a) for a in totals_by_axis.values())),
        actions=actions,
    )
    return ProgrammeValidated.create(source=PROGRAMME_SOURCE, subject=str(year), data=data)


def action_progressed(validation: Event, axis: str, actual: str) -> Event:
    """The programme's report that the action of ``axis`` in ``validation`` cost ``actual``."""
    assert isinstance(validation, ProgrammeValidated)
    action = next(a for a in validation.data.actions if a.axis == axis)
    facts = ActionFacts(
        id=action.id,
        year=validation.data.year,
        axis=action.axis,
        title=action.title,
        description="",
        status="in_progress",
        lead_centre_id=None,
        needs_lead=True,
        participants=[],
        starts_on=action.starts_on,
        ends_on=action.ends_on,
        estimated_cost=action.estimated_cost,
        actual_cost=actual,
        progress=50,
    )
    data = ActionUpdatedData(action=facts, changed=["actual_cost"], by="agency", at=utcnow())
    return ActionUpdated.create(source=PROGRAMME_SOURCE, subject=str(action.id), data=data)


class Publisher:
    """Publishes events as a service's relay would: keyed by subject."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all"
        )
        self._topic = topic

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def publish(self, events: Sequence[Event]) -> None:
        futures = [
            await self._producer.send(
                self._topic, value=event.to_json(), key=event.subject.encode()
            )
            for event in events
        ]
        for future in futures:
            await future


class Registry(Publisher):
    """Stands in for the registry."""


class Programme(Publisher):
    """Stands in for the programme service."""


async def budget_of(client: httpx.AsyncClient, year: int, part: str = "") -> dict[str, Any]:
    """``GET /budgets/{year}{part}`` (``""``, ``"/shares"``, ``"/versions"``…), which must
    answer 200: its JSON body."""
    response = await client.get(f"{API}/budgets/{year}{part}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def fetchval(database_url: str, query: str, *args: Any) -> Any:
    """One value read from the budget's database, on a connection of its own."""
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def budget_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "envelope": "30000.00",
        "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
        "epci_key": "member_centres",
        "funders": [{"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"}],
    }
    body.update(changes)
    return body


class DotationsFollower:
    """What a consumer of :class:`DotationsChanged` knows after each version: every member's
    workstations (from the centres listed as changed) and, through the classes, its dotation
    now and in the version before."""

    def __init__(self) -> None:
        self.workstations: dict[uuid.UUID, int] = {}
        self.amounts: dict[uuid.UUID, int] = {}
        self.previous: dict[uuid.UUID, int] = {}

    def take(self, events: Sequence[Event]) -> None:
        """Take a version's events (the others are left alone), in their order."""
        for event in events:
            if not isinstance(event, DotationsChanged):
                continue
            data = event.data
            before = {c.workstations: c for c in data.previous_classes}
            classes = {c.workstations: c for c in data.classes}
            if data.part == 1:
                self.previous = {
                    centre_id: before[w].cents_for(centre_id)
                    for centre_id, w in self.workstations.items()
                }
            for changed in data.changed:
                self.previous[changed.centre_id] = cents_from_amount(changed.previous)
                if changed.member:
                    self.workstations[changed.centre_id] = changed.workstations
                else:
                    self.workstations.pop(changed.centre_id, None)
            self.amounts = {
                centre_id: classes[w].cents_for(centre_id)
                for centre_id, w in self.workstations.items()
            }
