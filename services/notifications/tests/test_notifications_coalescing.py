"""Coalescing: a centre's share changes and new-member announcements wait for their window and
go as one email; a centre's own membership decisions never wait."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_notifications.repository import notice_item_id
from crnt_shared import dates
from crnt_shared.contracts.budget import (
    ExceededParticipation,
    ParticipationExceeded,
    ParticipationExceededData,
)
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    CAPSO,
    CCPL,
    Publish,
    animators,
    centre,
    close_windows,
    deliveries,
    dotations_changed,
    handled,
    listed,
    mails_to,
    membership,
    settle,
    share_changed,
    to,
)

pytestmark = pytest.mark.integration

NNBSP, NBSP = "\u202f", "\u00a0"


async def test_share_changes_of_a_window_make_one_email_then_count_from_it(
    app: FastAPI, publish: Publish, mail: MailCatcher, window: float
) -> None:
    facts = centre("EPN de Lumbres", commune="Lumbres", epci=CCPL)
    # The budget's events may come before the registry's: the notice waits for the centre.
    await publish.budget(
        share_changed(
            facts,
            version=2,
            amount="1500.00",
            previous="0.00",
            causes=("fr.crnt.registry.membership.approved.v1",),
        ),
        share_changed(facts, version=3, amount="1500.00", previous="1500.00"),  # no change
        share_changed(facts, version=4, amount="1234.56", previous="1500.00"),
    )
    await asyncio.sleep(window + 0.5)
    await publish.registry(
        membership(
            MembershipApproved,
            facts,
            animators("alex@lumbres.example", "sam@lumbres.example"),
            previous="pending",
        )
    )
    await mails_to(mail, "alex@lumbres.example", 2)  # welcome, then the share
    for address in ("alex@lumbres.example", "sam@lumbres.example"):
        [share] = [m for m in await mails_to(mail, address, 2) if "Dotation" in m.subject]
        assert share.subject == f"Dotation 2026 de l’EPN de Lumbres\u202f: 1{NNBSP}234,56{NBSP}€"
        assert f"Nouveau montant\u202f: 1{NNBSP}234,56{NBSP}€" in share.text
        assert f"Montant précédent\u202f: 0,00{NBSP}€" in share.text
        assert f"Évolution\u202f: +1{NNBSP}234,56{NBSP}€" in share.text
        assert "Version du budget estimatif\u202f: 4" in share.text
        assert "- l'adhésion de votre lieu au réseau" in share.text
        assert "- une nouvelle répartition entre les lieux membres" in share.text

    mail.clear()
    await publish.budget(share_changed(facts, version=5, amount="1100.00", previous="1234.56"))
    [later] = await mails_to(mail, "alex@lumbres.example")
    assert f"Montant précédent\u202f: 1{NNBSP}234,56{NBSP}€" in later.text
    assert f"Évolution\u202f: \u2212134,56{NBSP}€" in later.text
    await settle(window)
    assert len(mail.messages) == 2


@pytest.fixture
def window() -> float:
    return 1.5


BURST = 200
#: Longer than the test itself: in the burst test, no window ends by the clock. The test closes
#: them (``close_windows``) once every event of the burst is in the inbox, so that a slow
#: machine cannot spread the burst over two windows; the end of a window by the clock is what
#: the other tests of this module and of the registry's rows show.
LONG_WINDOW = 600.0


@pytest.mark.parametrize("window", [LONG_WINDOW])
async def test_a_burst_of_approvals_gives_one_coalesced_email_per_animator(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    """200 arrivals in one window: each animator gets one mail that counts them by EPCI and
    links to their list on the web, not one that names 200 places."""
    existing = [centre(f"Lieu historique {n}") for n in range(3)]
    hands = {
        facts.id: animators(f"a{n}@old.example", f"b{n}@old.example")
        for n, facts in enumerate(existing)
    }
    founders = [
        membership(MembershipApproved, f, hands[f.id], previous="pending") for f in existing
    ]
    await publish.registry(*founders)
    old_hands = [person.email for people in hands.values() for person in people]
    await handled(app, founders)
    await close_windows(app)
    for address in old_hands:  # the welcome, then the first announcement (the other two)
        await mails_to(mail, address, 2, timeout=60)
    mail.clear()

    newcomers = [
        centre(
            f"Nouveau lieu {n:03d}",
            commune="Lumbres" if n % 4 else "Arques",
            epci=CCPL if n % 4 else CAPSO,
        )
        for n in range(BURST)
    ]
    approvals = [
        membership(MembershipApproved, f, animators(f"n{n:03d}@new.example"), previous="pending")
        for n, f in enumerate(newcomers)
    ]
    shares = [
        share_changed(
            f,
            version=version,
            amount=f"{10000 - version * 10}.00",
            previous=f"{10000 - (version - 1) * 10}.00",
        )
        for version in range(2, BURST + 2)
        for f in existing
    ]
    await asyncio.gather(publish.registry(*approvals), publish.budget(*shares))

    # Each new centre's animators: their welcome at once, while the window is open.
    async def welcomed() -> bool:
        return sum("Bienvenue" in m.subject for m in mail.messages) >= BURST

    await wait_until(welcomed, timeout=180, message=f"{BURST} welcomes")
    await handled(app, [*approvals, *shares], timeout=180)
    assert all("Bienvenue" in m.subject for m in mail.messages), "a window closed early"

    # The window ends: each existing animator, one announcement of all 200 and one share email.
    today = dates.french_date(datetime.now(dates.PARIS).date())
    link = f"http://web.test/lieux?depuis={datetime.now(dates.PARIS).date().isoformat()}"
    await close_windows(app)
    for address in old_hands:
        received = await mails_to(mail, address, 2, timeout=120)
        subjects = sorted(m.subject for m in received)
        assert subjects[0] == f"{BURST} nouveaux membres dans le réseau"
        news = received[[m.subject for m in received].index(subjects[0])]
        assert (
            f"{BURST} nouveaux lieux ont rejoint le réseau des lieux de médiation numérique du"
            f" territoire. Par intercommunalité{NNBSP}:\n\n"
            f"- CC du Pays de Lumbres{NNBSP}: 150 lieux\n"
            f"- CA du Pays de Saint-Omer{NNBSP}: 50 lieux\n\n"
            "Retrouvez-les tous, avec leur adresse et leurs horaires, dans la liste des lieux"
            f" arrivés depuis le {today}{NNBSP}:\n{link}\n" in news.text
        )
        assert f'<a href="{link}">' in news.html
        assert "Nouveau lieu" not in news.text + news.html
        assert len(news.raw) < 12_000, "a summary, whatever the number of places"
        share = next(m for m in received if m.subject.startswith("Dotation"))
        assert f"Nouveau montant\u202f: 7{NNBSP}990,00{NBSP}€" in share.text
        assert f"Montant précédent\u202f: 9{NNBSP}990,00{NBSP}€" in share.text
        assert f"Évolution\u202f: \u22122{NNBSP}000,00{NBSP}€" in share.text
        assert f"Version du budget estimatif\u202f: {BURST + 1}" in share.text

    # Each newcomer: its welcome, and one announcement of the others (not itself).
    async def announced() -> bool:
        return all(len(to(mail, f"n{n:03d}@new.example")) >= 2 for n in range(BURST))

    await wait_until(announced, timeout=120, message="the announcement to every newcomer")
    await settle(2.0)
    for address in old_hands:
        assert len(to(mail, address)) == 2, address
    subjects = [m.subject for m in mail.messages]
    assert sum("Bienvenue" in subject for subject in subjects) == BURST
    assert sum("nouveaux membres" in subject for subject in subjects) == len(old_hands) + BURST
    assert len(subjects) == BURST + 2 * len(old_hands) + BURST
    for n, lumbres, arques in ((0, 150, 49), (BURST - 1, 149, 50)):
        received = to(mail, f"n{n:03d}@new.example")
        assert len(received) == 2
        news = next(m for m in received if "nouveaux membres" in m.subject)
        assert news.subject == f"{BURST - 1} nouveaux membres dans le réseau"
        assert f"- CC du Pays de Lumbres{NNBSP}: {lumbres} lieux\n" in news.text
        assert f"- CA du Pays de Saint-Omer{NNBSP}: {arques} lieux\n" in news.text


@pytest.mark.parametrize("window", [LONG_WINDOW])
async def test_up_to_twenty_arrivals_are_named_one_more_is_counted(
    app: FastAPI,
    publish: Publish,
    mail: MailCatcher,
    client: httpx.AsyncClient,
    agency: dict[str, str],
) -> None:
    """The threshold: 20 places in a window are named one by one; 21 are counted by EPCI."""
    first = centre("Lieu historique")
    [founder] = [
        membership(MembershipApproved, first, animators("ana@old.example"), previous="pending")
    ]
    await publish.registry(founder)
    await handled(app, [founder])
    await close_windows(app)
    await mails_to(mail, "ana@old.example", 1)
    # Its own announcement tells Ana nothing (hers is the one place): wait for its sealing,
    # so that no arrival below joins it.
    await wait_until(_all_sealed(app), timeout=30, message="the founder's notice sealed")
    for count in (20, 21):
        mail.clear()
        arrivals = [
            membership(
                MembershipApproved,
                centre(f"Lieu {count}-{n:02d}", commune="Lumbres", epci=CCPL),
                animators(f"n{n:02d}.{count}@new.example"),
                previous="pending",
            )
            for n in range(count)
        ]
        await publish.registry(*arrivals)
        await handled(app, arrivals)
        await close_windows(app)
        [news] = [
            m
            for m in await mails_to(mail, "ana@old.example", 1, timeout=60)
            if "nouveaux membres" in m.subject
        ]
        assert news.subject == f"{count} nouveaux membres dans le réseau"
        named = news.text.count(f"- Lieu {count}-")
        if count == 20:
            assert named == 20
            assert "- Lieu 20-00, Lumbres (CC du Pays de Lumbres)" in news.text
            assert "lieux?depuis=" not in news.text
        else:
            assert named == 0
            assert f"- CC du Pays de Lumbres{NNBSP}: 21 lieux\n" in news.text
            assert "http://web.test/lieux?depuis=" in news.text
            # The summary lists no event, yet is found by any arrival it counts.
            found = await deliveries(client, agency, kind="new_members", event=str(arrivals[7].id))
            assert {item["recipient"] for item in found["items"]} >= {"ana@old.example"}
            assert all(len(item["event_ids"]) == 1 for item in found["items"])


def _all_sealed(app: FastAPI) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with app.state.runtime.unit_of_work() as uow:
            open_notices = await uow.connection.fetchval(
                "SELECT count(*) FROM notices WHERE sealed_at IS NULL"
            )
        return bool(open_notices == 0)

    return check


def exceeded(version: int, *epcis: tuple[str, str, str, str]) -> ParticipationExceeded:
    data = ParticipationExceededData(
        year=2026,
        version=version,
        computed_at=datetime(2026, 5, 1, tzinfo=UTC),
        epcis=[
            ExceededParticipation(
                siren=siren,
                name=name,
                voted=voted,
                asked=asked,
                deliberation_number="2026-042",
                deliberation_date=date(2026, 3, 12),
            )
            for siren, name, voted, asked in epcis
        ],
    )
    return ParticipationExceeded.create(source="/crnt/budget", subject="2026", data=data)


async def test_versions_over_a_voted_participation_make_one_mail_to_the_agency(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    """Two versions in one window ask CAPSO more than its 12,000.00; the second also CCPL:
    one mail names both, with the latest demands (CAPSO 15,500.00, CCPL 3,100.00)."""
    capso = ("200069037", "CAPSO", "12000.00", "15000.00")
    await publish.budget(
        exceeded(4, capso),
        exceeded(5, (*capso[:3], "15500.00"), ("246201016", "CCPL", "3000.00", "3100.00")),
    )
    await close_windows(app)
    [message] = await mails_to(mail, AGENCY_EMAIL, 1)
    assert message.subject == (
        "Budget 2026\u202f: 2 participations demandées dépassent les participations votées"
    )
    assert "une nouvelle délibération est nécessaire" in message.text
    assert (
        f"- CAPSO (SIREN 200069037)\u202f: participation votée 12{NNBSP}000,00{NBSP}€ (délibération"
        f" n° 2026-042 du 12 mars 2026), montant demandé 15{NNBSP}500,00{NBSP}€, soit"
        f" 3{NNBSP}500,00{NBSP}€ de plus." in message.text
    )
    assert f"montant demandé 3{NNBSP}100,00{NBSP}€" in message.text
    assert "version 5" in message.text
    await settle(1.0)
    assert len(to(mail, AGENCY_EMAIL)) == 1


@pytest.mark.parametrize("window", [LONG_WINDOW])
async def test_members_a_version_does_not_list_hear_of_their_classs_dotation(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    """On PostgreSQL, the class path in one statement: version 1 lists three members, version 2
    only moves the classes (and gives the first member of class 2 in id order the extra cent):
    each animator gets one mail with its centre's amount of version 2."""
    founders = [centre(f"Lieu {n}") for n in range(3)]
    emails = [f"c{n}@classes.example" for n in range(3)]
    approvals = [
        membership(MembershipApproved, f, animators(email), previous="pending")
        for f, email in zip(founders, emails, strict=True)
    ]
    await publish.registry(*approvals)
    await handled(app, approvals)
    await close_windows(app)
    for address in emails:  # the welcome, then the announcement of the other two
        await mails_to(mail, address, 2, timeout=60)
    mail.clear()

    by_id = sorted(founders[:2], key=lambda f: str(f.id))
    first = dotations_changed(
        version=1,
        classes={2: "500.00", 5: "900.00"},
        previous={},
        changed=[listed(f, workstations=w) for f, w in zip(founders, (2, 2, 5), strict=True)],
    )
    second = dotations_changed(
        version=2,
        classes={2: "400.00", 5: "800.00"},
        previous={2: "500.00", 5: "900.00"},
        types=(MembershipApproved.event_type(),),
        extra_through={2: by_id[0].id},
    )
    await publish.budget(first, second)
    await handled(app, [first, second])
    # The SQL of the class path names each item as the Python path would (one rule, replayed).
    async with app.state.runtime.pool.acquire() as connection:
        ids = await connection.fetch(
            "SELECT data->>'centre_id' AS centre, event_id FROM notice_items"
            " WHERE (data->>'version')::int = 2 AND data->>'centre_id' = ANY($1::text[])",
            [str(f.id) for f in founders],
        )
    assert {row["centre"]: row["event_id"] for row in ids} == {
        str(f.id): notice_item_id(second.id, f.id) for f in founders
    }
    await close_windows(app)
    expected = {by_id[0].id: "400,01", by_id[1].id: "400,00", founders[2].id: "800,00"}
    for facts, address in zip(founders, emails, strict=True):
        [share] = await mails_to(mail, address, 1, timeout=60)
        assert share.subject.startswith("Dotation")
        assert f"Nouveau montant\u202f: {expected[facts.id]}{NBSP}€" in share.text
        assert "Version du budget estimatif\u202f: 2" in share.text
        assert "arrivée de nouveaux lieux" in share.text
    await settle(1.0)
    assert len(mail.messages) == 3
