"""The notifications' repository in memory, for unit tests of its handlers without PostgreSQL:
what :class:`~crnt_notifications.repository.NotificationsRepository` says, with the constraints
of the migrations that the handlers rely on (one delivery per event, recipient and kind; one
open notice per kind and key; an event once per notice)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from crnt_notifications.domain import HEARING_STATUSES, Recipient, Status, normalise_email
from crnt_notifications.handlers import Notifier
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.repository import (
    CentreRow,
    ClassChanges,
    Delivery,
    DeliveryFilters,
    Erased,
    NewDelivery,
    Notice,
    NoticeEntry,
    NoticeItem,
    ShareAnnouncement,
    notice_item_id,
)
from crnt_notifications.templates import Renderer
from crnt_shared.contracts.budget import ChangedCentre
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts
from crnt_shared.erasure import ERASED_DOMAIN, address_digest
from crnt_shared.fakes import FakeUnitOfWork

from services.notifications.tests.notifications_testkit import AGENCY_EMAIL

WAITING = frozenset({Status.PENDING, Status.RETRYING})
_CENTRE_COLUMNS = {column.name for column in fields(CentreRow)}


@dataclass
class OpenNotice:
    id: UUID
    kind: str
    key: str
    open_until: datetime
    created_at: datetime
    items: list[NoticeItem] = field(default_factory=list)
    sealed: bool = False


@dataclass
class FakeNotificationsRepository:
    epcis: dict[str, str] = field(default_factory=dict)
    known_centres: dict[UUID, CentreRow] = field(default_factory=dict)
    #: The animators who may be mailed, by id (their ``centre_id`` is their centre).
    animators: dict[UUID, Recipient] = field(default_factory=dict)
    #: Each address's opted-out categories and when they were set.
    opted: dict[str, list[str]] = field(default_factory=dict)
    preferences_set_at: dict[str, datetime] = field(default_factory=dict)
    confirmations: dict[tuple[UUID, str], datetime] = field(default_factory=dict)
    notices: dict[UUID, OpenNotice] = field(default_factory=dict)
    #: The share amount last announced to each (centre, year).
    announced: dict[tuple[UUID, int], int] = field(default_factory=dict)
    postponed: dict[UUID, datetime] = field(default_factory=dict)
    #: Each (year, centre)'s facts as a budget version listed them: (workstations, member,
    #: version).
    dotation_members: dict[tuple[int, UUID], tuple[int, bool, int]] = field(default_factory=dict)
    #: Every delivery, in the order written.
    mails: list[Delivery] = field(default_factory=list)

    # The recipients read model

    async def upsert_epci(self, siren: str, name: str) -> None:
        self.epcis[siren] = name
        for centre_id, row in self.known_centres.items():
            if row.epci_siren == siren:
                self.known_centres[centre_id] = replace(row, epci_name=name)

    async def upsert_centres(self, centres: Sequence[CentreFacts]) -> None:
        for centre in centres:
            self.known_centres[centre.id] = CentreRow(**centre.model_dump(include=_CENTRE_COLUMNS))

    async def replace_teams(self, teams: Sequence[tuple[UUID, Sequence[AnimatorFacts]]]) -> None:
        teams = list({centre_id: (centre_id, team) for centre_id, team in teams}.values())
        kept = {animator.id for _, team in teams for animator in team}
        replaced = {centre_id for centre_id, _ in teams}
        for animator_id, person in list(self.animators.items()):
            if person.centre_id in replaced and animator_id not in kept:
                del self.animators[animator_id]
        for centre_id, team in teams:
            for animator in team:
                await self.upsert_animator(centre_id, animator)

    async def upsert_animator(self, centre_id: UUID, animator: AnimatorFacts) -> None:
        self.animators[animator.id] = Recipient(
            normalise_email(animator.email), animator.name, centre_id
        )

    async def remove_animator(self, animator_id: UUID) -> None:
        self.animators.pop(animator_id, None)

    async def centres(self, centre_ids: Iterable[UUID]) -> dict[UUID, CentreRow]:
        return {i: self.known_centres[i] for i in centre_ids if i in self.known_centres}

    async def animators_of(self, centre_id: UUID) -> list[Recipient]:
        team = [person for person in self.animators.values() if person.centre_id == centre_id]
        return sorted(team, key=lambda person: person.name or "")

    async def teams(self, centre_ids: Iterable[UUID]) -> dict[UUID, list[Recipient]]:
        teams = {i: await self.animators_of(i) for i in centre_ids}
        return {i: team for i, team in teams.items() if team}

    async def hearing_animators(self) -> list[Recipient]:
        return [person for person, _ in await self.animators_with_centre(HEARING_STATUSES)]

    async def animators_with_centre(self, statuses: Iterable[str]) -> list[tuple[Recipient, str]]:
        wanted = set(statuses)
        found = [
            (person, self.known_centres[person.centre_id].nom)
            for person in self.animators.values()
            if person.centre_id in self.known_centres
            and self.known_centres[person.centre_id].status in wanted
        ]
        return sorted(found, key=lambda pair: (pair[0].email, pair[1]))

    # Preferences and address confirmations

    async def opted_out(self, emails: Iterable[str]) -> dict[str, list[str]]:
        wanted = {normalise_email(email) for email in emails}
        return {email: list(self.opted[email]) for email in wanted if email in self.opted}

    async def preferences(self, email: str) -> tuple[list[str], datetime | None]:
        address = normalise_email(email)
        if address not in self.opted:
            return [], None
        return sorted(self.opted[address]), self.preferences_set_at[address]

    async def set_preferences(self, email: str, opted_out: Iterable[str]) -> None:
        address = normalise_email(email)
        self.opted[address] = sorted(set(opted_out))
        self.preferences_set_at[address] = _now()

    async def opt_out(self, email: str, category: str) -> None:
        address = normalise_email(email)
        await self.set_preferences(address, [*self.opted.get(address, []), category])

    async def record_confirmation(self, application_id: UUID, email: str) -> datetime | None:
        key = (application_id, normalise_email(email))
        if key in self.confirmations:
            return None
        self.confirmations[key] = _now()
        return self.confirmations[key]

    # Coalesced notices

    async def add_to_notice(
        self, *, kind: str, key: str, event_id: UUID, data: dict[str, Any], open_until: datetime
    ) -> None:
        await self.add_many_to_notices(
            kind=kind, items=[NoticeEntry(key, event_id, data)], open_until=open_until
        )

    async def add_many_to_notices(
        self, *, kind: str, items: Sequence[NoticeEntry], open_until: datetime
    ) -> None:
        for entry in items:
            notice = self.open_notice(kind, entry.key)
            if notice is None:
                notice = OpenNotice(uuid4(), kind, entry.key, open_until, _now())
                self.notices[notice.id] = notice
            if all(item.event_id != entry.event_id for item in notice.items):
                notice.items.append(NoticeItem(entry.event_id, entry.data))

    async def record_dotation_members(
        self, year: int, version: int, centres: Sequence[ChangedCentre]
    ) -> None:
        for centre in centres:
            known = self.dotation_members.get((year, centre.centre_id))
            if known is None or known[2] <= version:
                self.dotation_members[(year, centre.centre_id)] = (
                    centre.workstations,
                    centre.member,
                    version,
                )

    async def add_class_changes_to_notices(self, changes: ClassChanges) -> None:
        """What the SQL does, in Python (the repository's test on PostgreSQL compares them)."""
        year, version, event_id = changes.year, changes.version, changes.event_id
        now = {c.workstations: c for c in changes.classes}
        before = {c.workstations: c for c in changes.previous}
        entries = []
        for (y, centre_id), (workstations, member, listed) in sorted(
            self.dotation_members.items(), key=lambda item: str(item[0][1])
        ):
            if y != year or not member or listed >= version:
                continue
            if workstations not in now or workstations not in before:
                continue
            amount = now[workstations].cents_for(centre_id)
            was = before[workstations].cents_for(centre_id)
            if amount != was:
                item = {
                    **changes.data,
                    "centre_id": str(centre_id),
                    "amount_cents": amount,
                    "previous_cents": was,
                }
                entries.append(
                    NoticeEntry(f"{centre_id}:{year}", notice_item_id(event_id, centre_id), item)
                )
        await self.add_many_to_notices(
            kind=changes.kind, items=entries, open_until=changes.open_until
        )

    async def lock_due_notices(self, limit: int) -> list[Notice]:
        due = sorted(
            (n for n in self.notices.values() if not n.sealed and n.open_until <= _now()),
            key=lambda notice: notice.open_until,
        )
        return [Notice(n.id, n.kind, n.key, n.created_at) for n in due[:limit]]

    async def notices_items(self, notice_ids: Sequence[UUID]) -> dict[UUID, list[NoticeItem]]:
        return {i: list(self.notices[i].items) for i in notice_ids}

    async def seal_notices(self, notice_ids: Sequence[UUID]) -> None:
        for notice_id in notice_ids:
            self.notices[notice_id].sealed = True

    async def postpone_notice(self, notice_id: UUID, until: datetime) -> None:
        self.postponed[notice_id] = until
        if notice_id in self.notices:
            self.notices[notice_id].open_until = until

    async def last_announced(
        self, shares: Iterable[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], int]:
        return {key: self.announced[key] for key in shares if key in self.announced}

    async def record_announcements(self, announcements: Sequence[ShareAnnouncement]) -> None:
        assert len({(a.centre_id, a.year) for a in announcements}) == len(announcements)
        for announcement in announcements:
            self.announced[(announcement.centre_id, announcement.year)] = announcement.amount_cents

    # Deliveries

    async def insert_deliveries(self, deliveries: Sequence[NewDelivery]) -> None:
        for new in deliveries:
            if any(_once(d) == _once(new) for d in self.mails):
                continue  # the constraint deliveries_once
            now = _now()
            self.mails.append(
                Delivery(
                    **{**new.__dict__, "status": new.status.value},
                    attempts=0,
                    next_attempt_at=now if new.status is Status.PENDING else None,
                    last_error=None,
                    created_at=now,
                    updated_at=now,
                    sent_at=None,
                )
            )

    async def claim_due(self, limit: int) -> list[Delivery]:
        due = [d for d in self.mails if _due(d)]
        due.sort(key=lambda d: (d.category not in ("membership", "agency"), d.next_attempt_at))
        return due[:limit]

    async def mark_sent(self, delivery_ids: Sequence[UUID]) -> None:
        for delivery_id in delivery_ids:
            delivery = await self.delivery(delivery_id)
            assert delivery is not None
            self._attempted(delivery_id, Status.SENT, delivery.attempts + 1, sent_at=_now())

    async def mark_retrying(
        self, delivery_id: UUID, attempts: int, delay_seconds: float, error: str
    ) -> None:
        retry_at = _now() + timedelta(seconds=delay_seconds)
        self._attempted(delivery_id, Status.RETRYING, attempts, error, next_attempt_at=retry_at)

    async def mark_failed(self, delivery_id: UUID, attempts: int, error: str) -> None:
        self._attempted(delivery_id, Status.FAILED, attempts, error)

    async def requeue(self, delivery_id: UUID) -> None:
        self._update(delivery_id, status=Status.PENDING.value, attempts=0, next_attempt_at=_now())

    async def delivery(self, delivery_id: UUID, *, lock: bool = False) -> Delivery | None:
        return next((d for d in self.mails if d.id == delivery_id), None)

    async def deliveries(
        self, filters: DeliveryFilters, *, limit: int, offset: int
    ) -> tuple[list[Delivery], int]:
        def kept(d: Delivery) -> bool:
            return (
                (not filters.recipient or d.recipient == normalise_email(filters.recipient))
                and (not filters.status or d.status == filters.status)
                and (not filters.kind or d.kind == filters.kind)
                and (not filters.event_id or filters.event_id in d.event_ids)
            )

        found = [d for d in reversed(self.mails) if kept(d)]  # newest first
        return found[offset : offset + limit], len(found)

    # Erasure

    async def erase_person(self, animator_id: UUID, salt: str, email_digest: str) -> Erased:
        known = {person.email for person in self.animators.values()}
        known |= set(self.opted) | {email for _, email in self.confirmations}
        known |= {d.recipient for d in self.mails}
        addresses = {address for address in known if address_digest(address, salt) == email_digest}
        if animator_id in self.animators:
            addresses.add(self.animators[animator_id].email)
        for key, person in list(self.animators.items()):
            if key == animator_id or person.email in addresses:
                del self.animators[key]
        for address in addresses:
            self.opted.pop(address, None)
            self.preferences_set_at.pop(address, None)
        self.confirmations = {k: v for k, v in self.confirmations.items() if k[1] not in addresses}
        deliveries = mentions = 0
        for d in list(self.mails):
            if d.recipient in addresses:
                deliveries += 1
                self._update(d.id, recipient=f"{d.id}@{ERASED_DOMAIN}", **_blank(d))
            elif any(a in (d.subject + d.body_text + d.body_html).lower() for a in addresses):
                mentions += 1
                self._update(d.id, **{**_blank(d), "unsubscribe_url": d.unsubscribe_url})
        return Erased(len(addresses), deliveries, mentions, 0)

    def open_notice(self, kind: str, key: str) -> OpenNotice | None:
        """The open notice of (kind, key), if any (for the tests' eyes)."""
        return next(
            (n for n in self.notices.values() if (n.kind, n.key) == (kind, key) and not n.sealed),
            None,
        )

    def _attempted(
        self,
        delivery_id: UUID,
        status: Status,
        attempts: int,
        error: str | None = None,
        **changes: Any,
    ) -> None:
        """After an attempt: its outcome, its count and error; due again only when retried."""
        changes = {"next_attempt_at": None, **changes}
        self._update(
            delivery_id, status=status.value, attempts=attempts, last_error=error, **changes
        )

    def _update(self, delivery_id: UUID, **changes: Any) -> None:
        self.mails = [
            replace(d, **changes, updated_at=_now()) if d.id == delivery_id else d
            for d in self.mails
        ]


NotificationsWork = FakeUnitOfWork[FakeNotificationsRepository]


def unit_of_work(repository: FakeNotificationsRepository | None = None) -> NotificationsWork:
    """A fake unit of work over ``repository`` (a new, empty one by default)."""
    return FakeUnitOfWork(repository or FakeNotificationsRepository())


def unit_notifier(window: timedelta) -> Notifier:
    """The handlers' notifier, as the runtime makes it, for unit tests: the real renderer and
    signed links, the agency at ``AGENCY_EMAIL``."""
    secret, base = "unit-secret", "http://notifications.test"
    return Notifier(
        renderer=Renderer(),
        links=UnsubscribeLinks(secret, base),
        confirmations=ConfirmationLinks(secret, base),
        agency_emails=(AGENCY_EMAIL,),
        window=window,
        message_domain="aud-stomer.example",
    )


def _once(delivery: NewDelivery | Delivery) -> tuple[UUID, str, str]:
    return delivery.event_id, delivery.recipient, delivery.kind


def _due(delivery: Delivery) -> bool:
    return (
        delivery.status in WAITING
        and delivery.next_attempt_at is not None
        and delivery.next_attempt_at <= _now()
    )


def _blank(delivery: Delivery) -> dict[str, Any]:
    """What an erasure leaves of a delivery's content (a waiting one is not sent)."""
    waiting = delivery.status in WAITING
    return {
        "subject": "",
        "body_text": "",
        "body_html": "",
        "unsubscribe_url": None,
        "last_error": None,
        "status": Status.SUPPRESSED.value if waiting else delivery.status,
        "next_attempt_at": None,
    }


def _now() -> datetime:
    return datetime.now(UTC)
