"""The registry's repository in memory, for unit tests of its handlers without PostgreSQL: what
:class:`~crnt_registry.repository.RegistryRepository` says, with the constraints of the
migrations that the handlers rely on (a live pivot once, an address once per centre)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from crnt_registry.domain import (
    CLOSED,
    PIVOT_PLACEHOLDER,
    CentreDraft,
    Confirmation,
    MembershipStatus,
)
from crnt_registry.repository import (
    Animator,
    Application,
    Centre,
    Decision,
    Epci,
    NewCentre,
    Transition,
)
from crnt_shared.errors import Conflict
from crnt_shared.fakes import FakeUnitOfWork

#: The states in which a centre holds its pivot (the unique index of the migrations).
LIVE = frozenset({MembershipStatus.PENDING, MembershipStatus.MEMBER, MembershipStatus.SUSPENDED})


@dataclass
class _StoredCentre:
    facts: CentreDraft
    status: MembershipStatus
    epci_siren: str
    date_maj: date
    created_at: datetime
    updated_at: datetime


@dataclass
class FakeRegistryRepository:
    epcis: dict[str, Epci] = field(default_factory=dict)
    centres: dict[UUID, _StoredCentre] = field(default_factory=dict)
    applications: dict[UUID, Application] = field(default_factory=dict)
    animators_by_id: dict[UUID, Animator] = field(default_factory=dict)
    history: list[Transition] = field(default_factory=list)
    confirmation_requests: dict[str, datetime] = field(default_factory=dict)
    #: When each erased animator was.
    erased: dict[UUID, datetime] = field(default_factory=dict)

    # EPCIs

    async def add_epci(self, epci: Epci) -> None:
        owners = await self.commune_owners(epci.communes)
        if epci.siren in self.epcis or owners:
            raise Conflict(
                f"EPCI {epci.siren} or one of its communes was registered meanwhile: retry."
            )
        self.epcis[epci.siren] = epci

    async def update_epci(self, epci: Epci) -> None:
        self.epcis[epci.siren] = epci

    async def epci(self, siren: str, *, for_update: bool = False) -> Epci | None:
        return self.epcis.get(siren)

    async def commune_owners(self, communes: Iterable[str]) -> dict[str, str]:
        wanted = set(communes)
        return {
            code: epci.siren
            for epci in self.epcis.values()
            for code in epci.communes
            if code in wanted
        }

    async def epci_names(self, sirens: Iterable[str]) -> dict[str, str]:
        return {siren: self.epcis[siren].name for siren in sirens if siren in self.epcis}

    # Centres

    async def add_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        await self.add_centres([NewCentre(centre_id, facts, epci_siren, date_maj)])

    async def add_centres(self, centres: Sequence[NewCentre]) -> None:
        pivots = [centre.facts.pivot for centre in centres]
        if await self.live_centres_with_pivots(pivots):
            raise Conflict(
                f"A centre with pivot {', '.join(pivots)} was submitted meanwhile: check the"
                " pending applications."
            )
        now = _now()
        for new in centres:
            self.centres[new.id] = _StoredCentre(
                new.facts, MembershipStatus.PENDING, new.epci_siren, new.date_maj, now, now
            )

    async def update_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        holder = (await self.live_centres_with_pivots([facts.pivot])).get(facts.pivot)
        if holder is not None and holder != centre_id:
            raise Conflict(
                f"Another centre took pivot {facts.pivot} meanwhile: check it and retry."
            )
        stored = self.centres[centre_id]
        stored.facts, stored.epci_siren, stored.date_maj = facts, epci_siren, date_maj
        stored.updated_at = _now()

    async def centre(self, centre_id: UUID, *, for_update: bool = False) -> Centre | None:
        stored = self.centres.get(centre_id)
        if stored is None:
            return None
        approved = [
            a.decided_at
            for a in self.applications.values()
            if a.centre_id == centre_id and a.status == "approved"
        ]
        return Centre(
            id=centre_id,
            status=stored.status,
            facts=stored.facts,
            epci_siren=stored.epci_siren,
            epci_name=self.epcis[stored.epci_siren].name,
            date_maj=stored.date_maj,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            member_since=approved[0] if approved else None,
        )

    async def centres_by_id(
        self, centre_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Centre]:
        found = {centre_id: await self.centre(centre_id) for centre_id in sorted(centre_ids)}
        return {centre_id: centre for centre_id, centre in found.items() if centre is not None}

    async def live_centres_with_pivots(self, pivots: Iterable[str]) -> dict[str, UUID]:
        wanted = set(pivots) - {PIVOT_PLACEHOLDER}
        return {
            stored.facts.pivot: centre_id
            for centre_id, stored in self.centres.items()
            if stored.facts.pivot in wanted and stored.status in LIVE
        }

    async def set_status(self, centre_id: UUID, status: MembershipStatus) -> None:
        self.centres[centre_id].status = status
        self.centres[centre_id].updated_at = _now()

    async def set_statuses(self, centre_ids: Sequence[UUID], status: MembershipStatus) -> None:
        for centre_id in centre_ids:
            await self.set_status(centre_id, status)

    async def now(self) -> datetime:
        return _now()

    # Applications and history

    async def add_applications(self, applications: Sequence[Application]) -> None:
        self.applications.update((a.id, a) for a in applications)

    async def application(
        self, application_id: UUID, *, for_update: bool = False
    ) -> Application | None:
        return self.applications.get(application_id)

    async def applications_by_id(
        self, application_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Application]:
        wanted = set(application_ids)
        return {i: a for i, a in sorted(self.applications.items()) if i in wanted}

    async def application_of(self, centre_id: UUID) -> Application | None:
        return next((a for a in self.applications.values() if a.centre_id == centre_id), None)

    async def decide_applications(
        self, application_ids: Sequence[UUID], decision: Decision
    ) -> None:
        for application_id in application_ids:
            self.applications[application_id] = replace(
                self.applications[application_id],
                status=decision.status,
                decided_by=decision.actor,
                reason=decision.reason,
                decided_at=decision.at,
            )

    async def set_confirmation(self, application_id: UUID, confirmation: Confirmation) -> None:
        self.applications[application_id] = replace(
            self.applications[application_id], confirmation=confirmation
        )

    async def expired_applications(self, now: datetime, *, limit: int) -> list[Application]:
        expired = [
            a
            for a in self.applications.values()
            if a.status == "pending"
            and a.confirmation is Confirmation.AWAITING
            and a.expires_at is not None
            and a.expires_at <= now
        ]
        return sorted(expired, key=lambda a: a.expires_at or now)[:limit]

    async def claim_confirmation_request(
        self, email: str, application_id: UUID, *, resend_after: timedelta
    ) -> bool:
        key, now = email.strip().lower(), _now()
        last = self.confirmation_requests.get(key)
        if last is not None and last > now - resend_after:
            return False
        self.confirmation_requests[key] = now
        return True

    async def forget_confirmation_requests(self, older_than: datetime) -> None:
        self.confirmation_requests = {
            key: at for key, at in self.confirmation_requests.items() if at >= older_than
        }

    async def record_transition(self, transition: Transition) -> None:
        self.history.append(transition)

    async def record_transitions(self, transitions: Sequence[Transition]) -> None:
        self.history.extend(transitions)

    # Animators

    async def add_animator(self, animator: Animator) -> None:
        await self.add_animators([animator])

    async def add_animators(self, animators: Sequence[Animator]) -> None:
        for animator in animators:
            taken = {a.email.lower() for a in await self.animators(animator.centre_id)}
            if animator.email.lower() in taken:
                raise Conflict(f"An animator of this centre has the email {animator.email}.")
            self.animators_by_id[animator.id] = animator

    async def update_animator(self, animator: Animator) -> None:
        self.animators_by_id[animator.id] = animator

    async def remove_animator(self, animator_id: UUID) -> None:
        del self.animators_by_id[animator_id]

    async def animators(self, centre_id: UUID) -> list[Animator]:
        return [a for a in self.animators_by_id.values() if a.centre_id == centre_id]

    async def animators_of(self, centre_ids: Sequence[UUID]) -> dict[UUID, list[Animator]]:
        teams = {centre_id: await self.animators(centre_id) for centre_id in centre_ids}
        return {centre_id: team for centre_id, team in teams.items() if team}

    # Erasure

    async def centre_status(self, centre_id: UUID, *, for_update: bool = False) -> str | None:
        stored = self.centres.get(centre_id)
        return None if stored is None else stored.status.value

    async def animator_address(
        self, centre_id: UUID, animator_id: UUID
    ) -> tuple[str, datetime | None] | None:
        animator = self.animators_by_id.get(animator_id)
        if animator is None or animator.centre_id != centre_id:
            return None
        return animator.email, self.erased.get(animator_id)

    async def open_centre_of(self, email: str, *, besides: UUID) -> tuple[UUID, str] | None:
        open_centres = sorted(
            (a.centre_id, self.centres[a.centre_id].status.value)
            for a in self.animators_by_id.values()
            if a.email.lower() == email.lower()
            and a.id != besides
            and self.centres[a.centre_id].status not in CLOSED
        )
        return open_centres[0] if open_centres else None

    async def erase_animator(
        self, animator_id: UUID, email: str, pseudonym: str, address: str, at: datetime
    ) -> int:
        erased = replace(self.animators_by_id[animator_id], name=pseudonym, email=address)
        self.animators_by_id[animator_id] = erased
        self.erased[animator_id] = at
        self.confirmation_requests.pop(email.strip().lower(), None)
        return 0  # the fake has no outbox


RegistryWork = FakeUnitOfWork[FakeRegistryRepository]


def unit_of_work(repository: FakeRegistryRepository | None = None) -> RegistryWork:
    """A fake unit of work over ``repository`` (a new, empty one by default)."""
    return FakeUnitOfWork(repository or FakeRegistryRepository())


def _now() -> datetime:
    return datetime.now(UTC)
