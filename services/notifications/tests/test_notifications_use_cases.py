"""The handlers' main use cases without Kafka or PostgreSQL: the fake repository
(:mod:`services.notifications.tests.fakes`) stands in for the SQL, so that what a mail says for
an approval and what the coalescing of share changes decides are checked in milliseconds
(``make unit``)."""

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import pytest
from crnt_notifications.domain import Kind, Status
from crnt_notifications.handlers import (
    Notifier,
    on_application_submitted,
    on_membership_changed,
    seal_due_notices,
)
from crnt_notifications.handlers.budget import announce_shares, on_dotations_changed
from crnt_notifications.repository import Notice, NoticeItem, NotificationsRepository
from crnt_shared.contracts.budget import DotationsChanged
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
    ApplicationSubmittedData,
    CentreFacts,
    MembershipApproved,
)
from crnt_shared.events import utcnow

from services.notifications.tests.fakes import (
    FakeNotificationsRepository,
    unit_notifier,
    unit_of_work,
)
from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    animators,
    centre,
    dotations_changed,
    listed,
    membership,
    share_changed,
    with_status,
)

WINDOW = timedelta(minutes=5)
YEAR = 2031


#: The fake does what the handlers need of the repository.
_: type[NotificationsRepository] = FakeNotificationsRepository


@pytest.fixture
def memory() -> FakeNotificationsRepository:
    return FakeNotificationsRepository()


def items(memory: FakeNotificationsRepository, kind: str, key: str) -> list[NoticeItem]:
    notice = memory.open_notice(kind, key)
    assert notice is not None, f"no open notice {kind} {key}"
    return notice.items


@pytest.fixture
def notifier() -> Notifier:
    return unit_notifier(WINDOW)


# What a mail says for an approval


async def test_an_approval_welcomes_each_confirmed_animator_and_joins_the_next_announcement(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    facts = with_status(centre("Médiathèque d'Arques"), "member")
    team = animators("lea@arques.example", "noe@arques.example")
    unconfirmed = team[1].model_copy(update={"confirmed": False})
    event = membership(MembershipApproved, facts, [team[0], unconfirmed], previous="pending")
    memory.opted["lea@arques.example"] = ["network", "budget"]  # a welcome is essential

    await on_membership_changed(cast(Any, event), unit_of_work(memory), notifier)

    [welcome] = memory.mails
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
    assert [person.email for person in await memory.animators_of(facts.id)] == [
        "lea@arques.example"
    ]
    [announcement] = memory.notices.values()
    assert (announcement.kind, announcement.key) == (Kind.NEW_MEMBERS, "network")
    assert announcement.items == [
        NoticeItem(
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


def submitted(facts: CentreFacts, channel: str) -> ApplicationSubmitted:
    return ApplicationSubmitted.create(
        source="/crnt/registry",
        subject=str(facts.id),
        data=ApplicationSubmittedData(
            application_id=facts.id,
            channel=channel,
            submitted_at=utcnow(),
            centre=facts,
            animators=[],
        ),
    )


async def test_an_import_tells_the_agency_once_per_window_and_a_form_at_once(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    """An import of the national cartography deposits thousands of applications: the agency
    gets one mail for those of a window, not one each; an application by form, at once."""
    imported = [centre(f"EPN {n}", status="pending", commune="Lumbres") for n in range(25)]
    for facts in imported:
        await on_application_submitted(submitted(facts, "import"), unit_of_work(memory), notifier)
    assert memory.mails == []
    notice = memory.open_notice(Kind.APPLICATIONS_IMPORTED, "imports")
    assert notice is not None
    assert len(notice.items) == 25
    notice.open_until = utcnow()

    assert await seal_due_notices(unit_of_work(memory), notifier) == 1

    [mail] = memory.mails
    assert (mail.recipient, mail.kind) == (AGENCY_EMAIL, Kind.APPLICATIONS_IMPORTED)
    assert mail.subject == "25 demandes d'adhésion importées"
    assert f"- {imported[0].epci_name}\u202f: 25 demandes" in mail.body_text
    assert "/agence/demandes?statut=pending" in mail.body_text
    assert list(mail.event_ids) == [mail.event_id]  # a summary: the notice's first event

    form = centre("Médiathèque d'Arques", status="pending")
    await on_application_submitted(submitted(form, "form"), unit_of_work(memory), notifier)
    assert [m.kind for m in memory.mails[1:]] == [Kind.APPLICATION_RECEIVED]


# Coalescing share changes


def changes(facts: CentreFacts, *amounts: tuple[int, str, str]) -> list[DotationsChanged]:
    """The budget's versions that move ``facts``'s share: (version, amount, previous) each."""
    return [
        share_changed(facts, version=v, amount=amount, previous=previous, year=YEAR)
        for v, amount, previous in amounts
    ]


async def handle_all(
    events: Sequence[DotationsChanged], memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    for event in events:
        await on_dotations_changed(event, unit_of_work(memory), notifier)


async def known_centre(memory: FakeNotificationsRepository) -> CentreFacts:
    """A member centre the registry told about, with its animator Ana."""
    facts = centre("EPN de Lumbres", commune="Lumbres")
    await memory.upsert_centres([facts])
    await memory.replace_teams([(facts.id, animators("ana@lumbres.example"))])
    return facts


async def seal(
    memory: FakeNotificationsRepository,
    notifier: Notifier,
    facts: CentreFacts,
    *,
    age: timedelta = WINDOW,
) -> bool:
    """The centre's notice at its window's end (``age`` after it opened): whether it is done."""
    key = f"{facts.id}:{YEAR}"
    notice = Notice(uuid.uuid4(), Kind.SHARE_CHANGED, key, utcnow() - age)
    notices = [(notice, items(memory, Kind.SHARE_CHANGED, key))]
    return notice.id not in await announce_shares(memory, notifier, notices)


async def test_a_burst_of_share_changes_waits_in_one_notice_and_gives_one_mail(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    facts = await known_centre(memory)
    burst = changes(facts, (2, "1500.00", "1000.00"), (3, "1500.00", "1500.00"))
    burst += changes(facts, (4, "1250.00", "1500.00"))

    await handle_all(burst, memory, notifier)

    kept = items(memory, Kind.SHARE_CHANGED, f"{facts.id}:{YEAR}")
    assert [item.data["version"] for item in kept] == [2, 4]  # not the still one
    assert await seal(memory, notifier, facts)
    [mail] = memory.mails
    assert (mail.recipient, mail.kind) == ("ana@lumbres.example", Kind.SHARE_CHANGED)
    assert list(mail.event_ids) == [item.event_id for item in kept]
    assert "1\u202f250,00\u00a0€" in mail.body_text  # the latest amount
    assert "+250,00\u00a0€" in mail.body_text  # the change since the last mail (1,000.00)
    assert memory.announced[(facts.id, YEAR)] == 125_000


async def test_a_share_back_where_the_last_mail_left_it_sends_nothing(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    facts = await known_centre(memory)
    memory.announced[(facts.id, YEAR)] = 100_000
    up_and_down = changes(facts, (5, "1200.00", "1000.00"), (6, "1000.00", "1200.00"))

    await handle_all(up_and_down, memory, notifier)

    assert await seal(memory, notifier, facts)
    assert memory.mails == []


async def test_a_share_notice_of_a_centre_not_heard_of_yet_waits_then_gives_up(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    facts = centre("EPN inconnu")
    await handle_all(changes(facts, (2, "900.00", "0.00")), memory, notifier)

    assert not await seal(memory, notifier, facts)
    [until] = memory.postponed.values()
    assert until - utcnow() <= WINDOW  # one more window
    assert await seal(memory, notifier, facts, age=WINDOW * 11)  # never heard of: dropped
    assert memory.mails == []


async def test_the_share_notices_closing_together_are_sealed_together_each_with_its_mail(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    """A version of a national network closes thousands of notices at once: one sealing reads
    and writes them together, and each centre still gets its own mail, its own amount, its
    animators' preferences; a centre not heard of yet waits alone."""
    lumbres = await known_centre(memory)
    arques = centre("Médiathèque d'Arques")
    await memory.upsert_centres([arques])
    await memory.replace_teams([(arques.id, animators("lea@arques.example"))])
    memory.opted["lea@arques.example"] = ["budget"]
    stranger = centre("EPN inconnu")
    await handle_all(changes(lumbres, (2, "1250.00", "1000.00")), memory, notifier)
    await handle_all(changes(arques, (2, "800.00", "900.00")), memory, notifier)
    await handle_all(changes(stranger, (2, "900.00", "0.00")), memory, notifier)
    for notice in memory.notices.values():
        notice.open_until = utcnow()

    assert await seal_due_notices(unit_of_work(memory), notifier) == 2

    mails = {mail.recipient: mail for mail in memory.mails}
    assert mails.keys() == {"ana@lumbres.example", "lea@arques.example"}
    assert "1\u202f250,00\u00a0€" in mails["ana@lumbres.example"].body_text
    assert "800,00\u00a0€" in mails["lea@arques.example"].body_text
    assert mails["ana@lumbres.example"].status == Status.PENDING
    assert mails["lea@arques.example"].status == Status.SUPPRESSED  # opted out of the budget's
    assert memory.announced == {(lumbres.id, YEAR): 125_000, (arques.id, YEAR): 80_000}
    assert memory.open_notice(Kind.SHARE_CHANGED, f"{stranger.id}:{YEAR}") is not None
    assert memory.open_notice(Kind.SHARE_CHANGED, f"{lumbres.id}:{YEAR}") is None


# A version's dotations by class: the members it does not list move with their class


APPROVED = MembershipApproved.event_type()


async def test_members_a_version_does_not_list_get_their_classs_dotation(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    """Version 1 lists two members (2 and 5 workstations); version 2 lists a newcomer only:
    the two others hear of their new share through their classes, the newcomer of its own,
    each in its notice, with why it moved."""
    lumbres = await known_centre(memory)
    aire = centre("EPN d'Aire", commune="Aire-sur-la-Lys")
    arques = centre("EPN d'Arques", commune="Arques")
    for facts, email in ((aire, "alix@aire.example"), (arques, "bo@arques.example")):
        await memory.upsert_centres([facts])
        await memory.replace_teams([(facts.id, animators(email))])
    first = dotations_changed(
        version=1,
        classes={2: "600.00", 5: "1500.00"},
        previous={},
        changed=[listed(lumbres, workstations=2), listed(aire, workstations=5)],
        year=YEAR,
    )
    second = dotations_changed(
        version=2,
        classes={2: "400.00", 5: "1000.00"},
        previous={2: "600.00", 5: "1500.00"},
        changed=[listed(arques, workstations=2, causes=(APPROVED,))],
        year=YEAR,
        types=(APPROVED,),
    )
    await handle_all([first, second], memory, notifier)

    def amounts(facts: CentreFacts) -> list[tuple[int, int, int, str]]:
        return [
            (i.data["version"], i.data["amount_cents"], i.data["previous_cents"], i.data["cause"])
            for i in items(memory, Kind.SHARE_CHANGED, f"{facts.id}:{YEAR}")
        ]

    others = "une nouvelle répartition entre les lieux membres (arrivée de nouveaux lieux)"
    assert amounts(lumbres) == [
        (1, 60_000, 0, "une nouvelle répartition entre les lieux membres"),
        (2, 40_000, 60_000, others),
    ]
    assert amounts(aire)[-1] == (2, 100_000, 150_000, others)
    assert amounts(arques) == [(2, 40_000, 0, "l'adhésion de votre lieu au réseau")]
    assert await seal(memory, notifier, lumbres)
    [mail] = memory.mails
    assert "400,00\u00a0€" in mail.body_text
    assert "arrivée de nouveaux lieux" in mail.body_text


async def test_a_leaver_and_a_version_in_parts_move_no_one_twice(
    memory: FakeNotificationsRepository, notifier: Notifier
) -> None:
    """A version in two parts: the class path runs once its last part is in, and never for a
    centre one of its parts listed (a leaver, a member with other workstations)."""
    lumbres, aire, arques = (centre(name) for name in ("EPN A", "EPN B", "EPN C"))
    start = dotations_changed(
        version=1,
        classes={2: "500.00", 3: "700.00"},
        previous={},
        changed=[listed(f, workstations=w) for f, w in ((lumbres, 2), (aire, 2), (arques, 3))],
        year=YEAR,
    )
    classes, previous = {2: "800.00", 4: "1000.00"}, {2: "500.00", 3: "700.00"}
    parts = [
        dotations_changed(
            version=2,
            classes=classes,
            previous=previous,
            changed=[listed(aire, member=False, workstations=2, previous="500.00")],
            year=YEAR,
            part=(1, 2),
        ),
        dotations_changed(
            version=2,
            classes=classes,
            previous=previous,
            changed=[listed(arques, workstations=4, previous="700.00")],
            year=YEAR,
            part=(2, 2),
        ),
    ]
    await handle_all([start, parts[0]], memory, notifier)
    assert len(items(memory, Kind.SHARE_CHANGED, f"{lumbres.id}:{YEAR}")) == 1  # not yet
    await handle_all([parts[1]], memory, notifier)

    def versions(facts: CentreFacts) -> list[tuple[int, int]]:
        found = items(memory, Kind.SHARE_CHANGED, f"{facts.id}:{YEAR}")
        return [(i.data["version"], i.data["amount_cents"]) for i in found]

    assert versions(lumbres) == [(1, 50_000), (2, 80_000)]
    assert versions(aire) == [(1, 50_000), (2, 0)]
    assert versions(arques) == [(1, 70_000), (2, 100_000)]
