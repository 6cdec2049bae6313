"""The handlers' main use cases without Kafka or PostgreSQL: an in-memory repository stands in
for the SQL, so that what a mail says for an approval and what the coalescing of share changes
decides are checked in milliseconds (``make unit``)."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

import pytest
from crnt_notifications.domain import Kind, Recipient, Status
from crnt_notifications.handlers import Notifier, budget, on_membership_changed, registry
from crnt_notifications.handlers.budget import announce_share, on_shares_changed
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.repository import (
    CentreRow,
    NewDelivery,
    Notice,
    NoticeEntry,
    NoticeItem,
    Repository,
)
from crnt_notifications.templates import Renderer
from crnt_shared.contracts.budget import CentreShareChanged
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipApproved
from crnt_shared.db import UnitOfWork
from crnt_shared.events import utcnow

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    animators,
    centre,
    membership,
    share_changed,
    with_status,
)

WINDOW = timedelta(minutes=5)
YEAR = 2031


@dataclass
class OpenNotice:
    kind: str
    key: str
    open_until: datetime
    items: list[tuple[UUID, dict[str, Any]]] = field(default_factory=list)


class MemoryRepository:
    """The part of :class:`Repository` the handlers below use, in memory."""

    def __init__(self) -> None:
        self.centres: dict[UUID, CentreRow] = {}
        self.teams: dict[UUID, list[Recipient]] = {}
        self.opted: dict[str, list[str]] = {}
        self.deliveries: list[NewDelivery] = []
        self.notices: dict[tuple[str, str], OpenNotice] = {}
        self.announced: dict[tuple[UUID, int], int] = {}
        self.postponed: dict[UUID, datetime] = {}

    async def upsert_centre(self, facts: CentreFacts) -> None:
        self.centres[facts.id] = CentreRow(
            facts.id,
            facts.status,
            facts.nom,
            facts.commune,
            facts.code_postal,
            facts.epci_siren,
            facts.epci_name,
        )

    async def replace_animators(self, centre_id: UUID, team: Sequence[AnimatorFacts]) -> None:
        self.teams[centre_id] = [Recipient(a.email, a.name, centre_id) for a in team]

    async def centre(self, centre_id: UUID) -> CentreRow | None:
        return self.centres.get(centre_id)

    async def animators_of(self, centre_id: UUID) -> list[Recipient]:
        return list(self.teams.get(centre_id, []))

    async def opted_out(self, emails: Iterable[str]) -> dict[str, list[str]]:
        return {email: self.opted[email] for email in emails if email in self.opted}

    async def insert_deliveries(self, deliveries: Sequence[NewDelivery]) -> None:
        self.deliveries += deliveries

    async def add_to_notice(
        self, *, kind: str, key: str, event_id: UUID, data: dict[str, Any], open_until: datetime
    ) -> None:
        await self.add_many_to_notices(
            kind=kind, items=[NoticeEntry(key, event_id, data)], open_until=open_until
        )

    async def add_many_to_notices(
        self, *, kind: str, items: Sequence[NoticeEntry], open_until: datetime
    ) -> None:
        for item in items:
            notice = self.notices.setdefault(
                (kind, item.key), OpenNotice(kind, item.key, open_until)
            )
            notice.items.append((item.event_id, item.data))

    async def postpone_notice(self, notice_id: UUID, until: datetime) -> None:
        self.postponed[notice_id] = until

    async def last_announced(self, centre_id: UUID, year: int) -> int | None:
        return self.announced.get((centre_id, year))

    async def record_announcement(
        self, centre_id: UUID, year: int, amount_cents: int, version: int
    ) -> None:
        self.announced[(centre_id, year)] = amount_cents

    def items(self, kind: str, key: str) -> list[NoticeItem]:
        return [NoticeItem(event_id, data) for event_id, data in self.notices[(kind, key)].items]


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryRepository:
    """The handlers' repository, in memory, for every handler module that builds one."""
    repository = MemoryRepository()
    for module in (registry, budget):
        monkeypatch.setattr(module, "Repository", lambda _connection: repository)
    return repository


#: The handlers reach the database only through their repository: no connection is opened.
UOW = cast(UnitOfWork, SimpleNamespace(connection=None))


@pytest.fixture
def notifier() -> Notifier:
    secret, base = "unit-secret", "http://notifications.test"
    return Notifier(
        renderer=Renderer(),
        links=UnsubscribeLinks(secret, base),
        confirmations=ConfirmationLinks(secret, base),
        agency_emails=(AGENCY_EMAIL,),
        window=WINDOW,
        message_domain="aud-stomer.example",
    )


# What a mail says for an approval


async def test_an_approval_welcomes_each_confirmed_animator_and_joins_the_next_announcement(
    memory: MemoryRepository, notifier: Notifier
) -> None:
    facts = with_status(centre("Médiathèque d'Arques"), "member")
    team = animators("lea@arques.example", "noe@arques.example")
    unconfirmed = team[1].model_copy(update={"confirmed": False})
    event = membership(MembershipApproved, facts, [team[0], unconfirmed], previous="pending")
    memory.opted["lea@arques.example"] = ["network", "budget"]  # a welcome is essential

    await on_membership_changed(cast(Any, event), UOW, notifier)

    [welcome] = memory.deliveries
    assert (welcome.recipient, welcome.kind, welcome.status) == (
        "lea@arques.example",
        Kind.MEMBERSHIP_WELCOME,
        Status.PENDING,
    )
    assert welcome.subject == (
        "Bienvenue dans le réseau\u202f: Médiathèque d'Arques est désormais membre"
    )
    assert "Bonjour Lea," in welcome.body_text
    assert "a été approuvée le" in welcome.body_text
    assert welcome.centre_id == facts.id
    assert welcome.event_ids == [event.id]
    assert welcome.message_id == f"<{welcome.id}@aud-stomer.example>"
    assert welcome.unsubscribe_url is None  # nobody unsubscribes from their own membership
    # The agency decided it: it hears nothing of it; the unconfirmed address is not on the team.
    assert [person.email for person in memory.teams[facts.id]] == ["lea@arques.example"]
    [announcement] = memory.notices.values()
    assert (announcement.kind, announcement.key) == (Kind.NEW_MEMBERS, "network")
    assert announcement.items == [
        (
            event.id,
            {
                "centre_id": str(facts.id),
                "nom": "Médiathèque d'Arques",
                "commune": "Arques",
                "epci_name": facts.epci_name,
                "at": event.data.at.isoformat(),
            },
        )
    ]
    assert announcement.open_until - utcnow() <= WINDOW


# Coalescing share changes


def changes(facts: CentreFacts, *amounts: tuple[int, str, str]) -> list[CentreShareChanged]:
    """The budget's share events of ``facts``: (version, amount, previous) each."""
    return [
        share_changed(facts, version=v, amount=amount, previous=previous, year=YEAR)
        for v, amount, previous in amounts
    ]


async def known_centre(memory: MemoryRepository) -> CentreFacts:
    """A member centre the registry told about, with its animator Ana."""
    facts = centre("EPN de Lumbres", commune="Lumbres")
    await memory.upsert_centre(facts)
    await memory.replace_animators(facts.id, animators("ana@lumbres.example"))
    return facts


async def seal(
    memory: MemoryRepository, notifier: Notifier, facts: CentreFacts, *, age: timedelta = WINDOW
) -> bool:
    """The centre's notice at its window's end (``age`` after it opened): whether it is done."""
    key = f"{facts.id}:{YEAR}"
    notice = Notice(uuid.uuid4(), Kind.SHARE_CHANGED, key, utcnow() - age)
    items = memory.items(Kind.SHARE_CHANGED, key)
    return await announce_share(cast(Repository, memory), notifier, notice, items)


async def test_a_burst_of_share_changes_waits_in_one_notice_and_gives_one_mail(
    memory: MemoryRepository, notifier: Notifier
) -> None:
    facts = await known_centre(memory)
    burst = changes(facts, (2, "1500.00", "1000.00"), (3, "1500.00", "1500.00"))
    burst += changes(facts, (4, "1250.00", "1500.00"))

    await on_shares_changed(burst, UOW, notifier)

    kept = memory.items(Kind.SHARE_CHANGED, f"{facts.id}:{YEAR}")
    assert [item.event_id for item in kept] == [burst[0].id, burst[2].id]  # not the still one
    assert await seal(memory, notifier, facts)
    [mail] = memory.deliveries
    assert (mail.recipient, mail.kind) == ("ana@lumbres.example", Kind.SHARE_CHANGED)
    assert list(mail.event_ids) == [burst[0].id, burst[2].id]
    assert "1\u202f250,00\u00a0€" in mail.body_text  # the latest amount
    assert "+250,00\u00a0€" in mail.body_text  # the change since the last mail (1,000.00)
    assert memory.announced[(facts.id, YEAR)] == 125_000


async def test_a_share_back_where_the_last_mail_left_it_sends_nothing(
    memory: MemoryRepository, notifier: Notifier
) -> None:
    facts = await known_centre(memory)
    memory.announced[(facts.id, YEAR)] = 100_000
    up_and_down = changes(facts, (5, "1200.00", "1000.00"), (6, "1000.00", "1200.00"))

    await on_shares_changed(up_and_down, UOW, notifier)

    assert await seal(memory, notifier, facts)
    assert memory.deliveries == []


async def test_a_share_notice_of_a_centre_not_heard_of_yet_waits_then_gives_up(
    memory: MemoryRepository, notifier: Notifier
) -> None:
    facts = centre("EPN inconnu")
    await on_shares_changed(changes(facts, (2, "900.00", "0.00")), UOW, notifier)

    assert not await seal(memory, notifier, facts)
    [until] = memory.postponed.values()
    assert until - utcnow() <= WINDOW  # one more window
    assert await seal(memory, notifier, facts, age=WINDOW * 11)  # never heard of: dropped
    assert memory.deliveries == []
