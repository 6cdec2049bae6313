"""Each row of the table for the registry's events: the right people get one email each, with
the right content; a redelivered event sends nothing more."""

from typing import Any, cast

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_notifications import handlers
from crnt_notifications.domain import Kind
from crnt_notifications.handlers import on_membership_changed
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
    ApplicationSubmittedData,
    MembershipApproved,
    MembershipReinstated,
    MembershipRejected,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.events import utcnow
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    CCPL,
    Publish,
    animators,
    centre,
    close_windows,
    mails_to,
    membership,
    settle,
    to,
)

pytestmark = pytest.mark.integration


async def test_application_submitted_tells_the_agency_and_acknowledges_the_applicant(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    facts = centre("EPN de Lumbres", status="pending", commune="Lumbres", epci=CCPL)
    people = animators("alex@lumbres.example", "sam@lumbres.example")
    event = ApplicationSubmitted.create(
        source="/crnt/registry",
        subject=str(facts.id),
        data=ApplicationSubmittedData(
            application_id=facts.id,
            channel="form",
            submitted_at=utcnow(),
            centre=facts,
            animators=people,
        ),
    )
    await publish.registry(event)

    [agency] = await mails_to(mail, AGENCY_EMAIL)
    assert agency.subject == "Nouvelle demande d'adhésion\u202f: EPN de Lumbres (Lumbres)"
    assert "Intercommunalité\u202f: CC du Pays de Lumbres" in agency.text
    assert "- Alex <alex@lumbres.example>" in agency.text
    assert "La demande attend votre décision" in agency.text
    for address in ("alex@lumbres.example", "sam@lumbres.example"):
        [ack] = await mails_to(mail, address)
        assert ack.subject == "Votre demande d'adhésion au réseau a bien été reçue"
        assert "«\u202fEPN de Lumbres\u202f» (Lumbres)" in ack.text
        assert "Et maintenant\u202f?" in ack.text
        assert ack.sender["Address"] == "crnt@aud-stomer.example"
        assert ack.message_id.endswith("@aud-stomer.example")
    await settle()
    assert len(mail.messages) == 3


# A window of ten minutes that never ends by itself during the test: the welcome arriving at
# all proves it does not wait for the window, whatever the machine's speed; the test closes
# the window itself when it wants the announcement.
@pytest.mark.parametrize("window", [600.0])
async def test_approval_welcomes_at_once_and_announces_the_new_member_to_the_others(
    app: FastAPI, publish: Publish, mail: MailCatcher, window: float
) -> None:
    existing = centre("Médiathèque d'Arques")
    old_hands = animators("lea@arques.example")
    await publish.registry(membership(MembershipApproved, existing, old_hands, previous="pending"))
    await mails_to(mail, "lea@arques.example")  # its own welcome
    await close_windows(app)  # its announcement had nobody else to tell
    await settle()
    mail.clear()

    newcomer = centre("EPN de Lumbres", commune="Lumbres", epci=CCPL)
    new_hands = animators("alex@lumbres.example")
    await publish.registry(membership(MembershipApproved, newcomer, new_hands, previous="pending"))

    [welcome] = await mails_to(mail, "alex@lumbres.example")
    assert welcome.subject == "Bienvenue dans le réseau\u202f: EPN de Lumbres est désormais membre"
    assert "Intercommunalité\u202f: CC du Pays de Lumbres" in welcome.text
    assert "Bienvenue\u202f!" in welcome.text
    assert "unsubscribe" not in welcome.text
    assert to(mail, "lea@arques.example") == []  # the announcement waits for its window
    await close_windows(app)

    [news] = await mails_to(mail, "lea@arques.example")
    assert news.subject == "Un nouveau membre dans le réseau\u202f: EPN de Lumbres"
    assert "- EPN de Lumbres, Lumbres (CC du Pays de Lumbres)" in news.text
    assert "http://notifications.test/api/v1/unsubscribe?token=" in news.text
    assert news.headers["List-Unsubscribe"][0].startswith("<http://notifications.test/")
    await settle()
    assert len(to(mail, "alex@lumbres.example")) == 1  # not told about itself


async def test_rejection_gives_the_reason(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    facts = centre("Tiers-lieu de Wizernes", status="rejected", commune="Wizernes")
    await publish.registry(
        membership(
            MembershipRejected,
            facts,
            animators("kim@wizernes.example"),
            previous="pending",
            reason="Le lieu n'accueille pas de public.",
        )
    )
    [rejected] = await mails_to(mail, "kim@wizernes.example")
    assert rejected.subject == "Votre demande d'adhésion au réseau n'a pas été retenue"
    assert "Motif\u202f: Le lieu n'accueille pas de public." in rejected.text
    assert "«\u202fTiers-lieu de Wizernes\u202f» (Wizernes)" in rejected.text
    await settle()
    assert to(mail, AGENCY_EMAIL) == []


@pytest.mark.parametrize(
    ("contract", "status", "previous", "subject", "agency_subject", "sentence"),
    [
        (
            MembershipSuspended,
            "suspended",
            "member",
            "Adhésion suspendue\u202f: Cyber-base d'Aire",
            "Adhésion suspendue\u202f: Cyber-base d'Aire (Aire-sur-la-Lys)",
            "L'adhésion de «\u202fCyber-base d'Aire\u202f» a été suspendue le",
        ),
        (
            MembershipReinstated,
            "member",
            "suspended",
            "Adhésion rétablie\u202f: Cyber-base d'Aire",
            "Adhésion rétablie\u202f: Cyber-base d'Aire (Aire-sur-la-Lys)",
            "L'adhésion de «\u202fCyber-base d'Aire\u202f» a été rétablie le",
        ),
        (
            MembershipWithdrawn,
            "withdrawn",
            "member",
            "Retrait du réseau\u202f: Cyber-base d'Aire",
            "Retrait du réseau\u202f: Cyber-base d'Aire (Aire-sur-la-Lys)",
            "«\u202fCyber-base d'Aire\u202f» a été retiré du réseau le",
        ),
    ],
)
async def test_suspension_reinstatement_withdrawal_tell_the_centre_and_the_agency(
    app: FastAPI,
    publish: Publish,
    mail: MailCatcher,
    contract: type,
    status: str,
    previous: str,
    subject: str,
    agency_subject: str,
    sentence: str,
) -> None:
    facts = centre("Cyber-base d'Aire", status=status, commune="Aire-sur-la-Lys")
    people = animators("noa@aire.example", "eli@aire.example")
    await publish.registry(
        membership(contract, facts, people, previous=previous, reason="Travaux de mise aux normes")
    )
    for address in ("noa@aire.example", "eli@aire.example"):
        [message] = await mails_to(mail, address)
        assert message.subject == subject
        assert "Motif\u202f: Travaux de mise aux normes" in message.text
    [agency] = await mails_to(mail, AGENCY_EMAIL)
    assert agency.subject == agency_subject
    assert sentence in agency.text
    assert "Motif\u202f: Travaux de mise aux normes" in agency.text
    await settle()
    assert len(mail.messages) == 3


async def test_the_same_event_twice_sends_one_email(
    publish: Publish, mail: MailCatcher, client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    facts = centre("EPN de Blendecques", status="suspended", commune="Blendecques")
    event = membership(
        MembershipSuspended, facts, animators("rio@blendecques.example"), previous="member"
    )
    await publish.registry(event, event)
    await mails_to(mail, "rio@blendecques.example")
    await mails_to(mail, AGENCY_EMAIL)
    await settle(1.0)
    assert len(mail.messages) == 2
    page = (
        await client.get("/api/v1/deliveries", params={"event": str(event.id)}, headers=agency)
    ).json()
    assert page["total"] == 2
    assert {item["status"] for item in page["items"]} == {"sent"}


async def test_the_database_refuses_a_second_delivery_for_the_same_event_recipient_and_kind(
    app: FastAPI,
) -> None:
    """Behind the inbox, the unique constraint: the handler run twice creates one delivery."""
    runtime = app.state.runtime
    facts = centre("EPN de Longuenesse", status="suspended", commune="Longuenesse")
    event = membership(
        MembershipSuspended, facts, animators("ana@longuenesse.example"), previous="member"
    )
    assert isinstance(event, MembershipSuspended)
    for _ in range(2):
        async with runtime.unit_of_work() as uow:
            await on_membership_changed(event, uow, runtime.notifier)
            await uow.commit()
    async with runtime.unit_of_work() as uow:
        rows = await uow.connection.fetch(
            "SELECT recipient, kind FROM deliveries WHERE event_id = $1 ORDER BY kind", event.id
        )
    assert [(row["recipient"], row["kind"]) for row in rows] == [
        (AGENCY_EMAIL, Kind.AGENCY_MEMBERSHIP_CHANGED),
        ("ana@longuenesse.example", Kind.MEMBERSHIP_SUSPENDED),
    ]


async def test_read_model_follows_the_registry(app: FastAPI, publish: Publish) -> None:
    facts = centre("EPN de Fauquembergues", status="pending", commune="Fauquembergues")
    people = animators("max@fauq.example")
    await publish.registry(
        membership(MembershipApproved, facts, people, previous="pending", now="member")
    )
    runtime = app.state.runtime

    async def recorded() -> bool:
        async with runtime.unit_of_work() as uow:
            row = await uow.connection.fetchrow(
                "SELECT c.status, a.email FROM centres c JOIN animators a ON a.centre_id = c.id"
                " WHERE c.id = $1",
                facts.id,
            )
        return row is not None and (row["status"], row["email"]) == ("member", "max@fauq.example")

    await wait_until(recorded, message="the centre in the read model")


async def test_decisions_taken_together_are_recorded_and_mailed_as_each_alone(
    app: FastAPI,
) -> None:
    """A fetch's decisions in one call, on PostgreSQL: each approved team gets its welcome, the
    suspension its mail and the agency's, a team told twice is as last told (an animator who
    moved to another centre belongs to that one), and the approvals wait in the notice in
    their order."""
    runtime = app.state.runtime
    arques = centre("Médiathèque d'Arques", status="member")
    lumbres = centre("EPN de Lumbres", status="member", commune="Lumbres")
    wizernes = centre("EPN de Wizernes", status="suspended", commune="Wizernes")
    lea, noe = animators("lea@arques.example", "noe@arques.example")
    ana = animators("ana@wizernes.example")
    first = membership(MembershipApproved, arques, [lea, noe], previous="pending")
    moved = membership(MembershipApproved, lumbres, [noe], previous="pending")
    suspended = membership(MembershipSuspended, wizernes, ana, previous="member")
    again = membership(MembershipApproved, arques, [lea], previous="pending")
    events = [first, moved, suspended, again]
    async with runtime.unit_of_work() as uow:
        await handlers.on_membership_decisions(cast(Any, events), uow, runtime.notifier)
        await uow.commit()
    async with runtime.unit_of_work() as uow:
        team = await uow.connection.fetch(
            "SELECT email, centre_id FROM animators WHERE centre_id = ANY($1::uuid[])"
            " ORDER BY email",
            [arques.id, lumbres.id, wizernes.id],
        )
        mails = await uow.connection.fetch(
            "SELECT recipient, kind FROM deliveries WHERE event_id = ANY($1::uuid[])"
            " ORDER BY recipient, kind",
            [event.id for event in events],
        )
        joined = await uow.connection.fetch(
            "SELECT i.event_id FROM notice_items i JOIN notices n ON n.id = i.notice_id"
            " WHERE n.kind = $1 AND i.event_id = ANY($2::uuid[]) ORDER BY i.position",
            Kind.NEW_MEMBERS,
            [event.id for event in events],
        )
    assert [(row["email"], row["centre_id"]) for row in team] == [
        ("ana@wizernes.example", wizernes.id),
        ("lea@arques.example", arques.id),
        ("noe@arques.example", lumbres.id),
    ]
    assert [(row["recipient"], row["kind"]) for row in mails] == [
        ("ana@wizernes.example", Kind.MEMBERSHIP_SUSPENDED),
        (AGENCY_EMAIL, Kind.AGENCY_MEMBERSHIP_CHANGED),
        ("lea@arques.example", Kind.MEMBERSHIP_WELCOME),
        ("lea@arques.example", Kind.MEMBERSHIP_WELCOME),
        ("noe@arques.example", Kind.MEMBERSHIP_WELCOME),
        ("noe@arques.example", Kind.MEMBERSHIP_WELCOME),
    ]
    assert [row["event_id"] for row in joined] == [first.id, moved.id, again.id]
