"""No open relay, in the notifications service: an anonymous application's addresses get one
confirmation request and nothing else until they confirm; the signed link confirms, publishes
the fact (never the secret), and only then the acknowledgement and the agency's mail go."""

import re
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.contracts.notifications import NOTIFICATIONS_EVENTS, AddressConfirmed
from crnt_shared.contracts.registry import (
    AddressConfirmedData,
    AnimatorFacts,
    ApplicationAddressConfirmed,
    ApplicationSubmitted,
    ApplicationSubmittedData,
    CentreFacts,
    MembershipApproved,
    MembershipRejected,
)
from crnt_shared.events import EventCatalog, utcnow
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    CCPL,
    Publish,
    centre,
    handled,
    mails_to,
    membership,
    settle,
    to,
)

pytestmark = pytest.mark.integration

NNBSP = "\u202f"
LINK = re.compile(
    r"http://notifications\.test(/api/v1/confirmations/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"
)
SUBJECT = "Confirmez votre adresse pour la demande d'adhésion de EPN de Lumbres"


def people(*emails: str, confirmed: bool = False) -> list[AnimatorFacts]:
    return [
        AnimatorFacts(
            id=uuid4(), name=email.split("@")[0].title(), email=email, confirmed=confirmed
        )
        for email in emails
    ]


def anonymous(
    facts: CentreFacts, animators: list[AnimatorFacts], asked: list[AnimatorFacts]
) -> ApplicationSubmitted:
    now = utcnow()
    return ApplicationSubmitted.create(
        source="/crnt/registry",
        subject=str(facts.id),
        data=ApplicationSubmittedData(
            application_id=uuid4(),
            channel="form",
            submitted_at=now,
            centre=facts,
            animators=animators,
            confirmation_required=True,
            confirmation_requested=[animator.id for animator in asked],
            expires_at=now + timedelta(days=14),
        ),
    )


def confirmed(
    submitted: ApplicationSubmitted,
    animator: AnimatorFacts,
    *,
    first: bool,
    status: str = "pending",
) -> ApplicationAddressConfirmed:
    data = submitted.data
    animators = [
        a.model_copy(update={"confirmed": True}) if a.id == animator.id else a
        for a in data.animators
    ]
    return ApplicationAddressConfirmed.create(
        source="/crnt/registry",
        subject=str(data.centre.id),
        data=AddressConfirmedData(
            application_id=data.application_id,
            application_status=status,
            first=first,
            animator=animator.model_copy(update={"confirmed": True}),
            at=utcnow(),
            channel=data.channel,
            submitted_at=data.submitted_at,
            centre=data.centre,
            animators=animators,
        ),
    )


async def published_confirmations(app: FastAPI) -> list[AddressConfirmed]:
    catalog = EventCatalog(NOTIFICATIONS_EVENTS)
    async with app.state.runtime.unit_of_work() as uow:
        rows = await uow.connection.fetch(
            "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id",
            "fr.crnt.notifications.address.confirmed.v1",
        )
    events = [catalog.decode(bytes(row["payload"])) for row in rows]
    return [event for event in events if isinstance(event, AddressConfirmed)]


async def test_an_anonymous_application_asks_each_listed_address_once_and_nothing_else(
    app: FastAPI, publish: Publish, mail: MailCatcher, client: httpx.AsyncClient
) -> None:
    facts = centre("EPN de Lumbres", status="pending", commune="Lumbres", epci=CCPL)
    alex, sam = people("alex@lumbres.example", "sam@lumbres.example")
    # Sam was asked by another application within the day: the registry does not list him.
    submitted = anonymous(facts, [alex, sam], asked=[alex])
    await publish.registry(submitted, submitted)  # redelivered: one mail still

    [request] = await mails_to(mail, "alex@lumbres.example")
    assert request.subject == SUBJECT
    assert f"pour «{NNBSP}EPN de Lumbres{NNBSP}» (Lumbres)" in request.text
    assert "unsubscribe" not in request.text
    match = LINK.search(request.text)
    assert match, request.text
    path = match.group(1)
    await settle()
    assert to(mail, "sam@lumbres.example") == []
    assert to(mail, AGENCY_EMAIL) == []  # the agency hears of it once an address confirms
    assert len(mail.messages) == 1

    # The agency rejects it before anyone confirmed: the unconfirmed addresses hear nothing.
    rejected = membership(
        MembershipRejected, facts, [alex, sam], previous="pending", now="rejected"
    )
    await publish.registry(rejected)
    await handled(app, [rejected])
    await settle()
    assert len(mail.messages) == 1

    # The link: its GET only asks (a mail scanner changes nothing), its POST confirms, once.
    page = await client.get(path)
    assert page.status_code == 200
    assert "Confirmer mon adresse" in page.text
    assert "alex@lumbres.example" in page.text
    assert await published_confirmations(app) == []
    for _ in range(2):
        done = await client.post(path)
        assert done.status_code == 200, done.text
        assert f"Merci{NNBSP}! L'adresse <strong>alex@lumbres.example</strong> est confirmée" in (
            done.text
        )
    [event] = await published_confirmations(app)
    assert (event.data.application_id, event.data.email) == (
        submitted.data.application_id,
        "alex@lumbres.example",
    )
    token = path.rsplit("/", 1)[1]
    assert token not in event.to_json().decode()  # the secret is not on Kafka


async def test_a_confirmed_address_gets_its_acknowledgement_and_the_agency_hears_once(
    app: FastAPI, publish: Publish, mail: MailCatcher
) -> None:
    facts = centre("EPN de Lumbres", status="pending", commune="Lumbres", epci=CCPL)
    alex, sam = people("alex@lumbres.example", "sam@lumbres.example")
    submitted = anonymous(facts, [alex, sam], asked=[alex, sam])
    await publish.registry(submitted)
    await mails_to(mail, "sam@lumbres.example")
    await mails_to(mail, "alex@lumbres.example")

    await publish.registry(confirmed(submitted, alex, first=True))
    [_, ack] = await mails_to(mail, "alex@lumbres.example", count=2)
    assert ack.subject == "Votre demande d'adhésion au réseau a bien été reçue"
    [agency] = await mails_to(mail, AGENCY_EMAIL)
    assert agency.subject == "Nouvelle demande d'adhésion\u202f: EPN de Lumbres (Lumbres)"
    lines = agency.text.splitlines()
    assert "- Alex <alex@lumbres.example>" in lines
    assert "- Sam <sam@lumbres.example> (adresse non confirmée)" in lines
    await settle()
    assert len(to(mail, "sam@lumbres.example")) == 1  # still only its confirmation request

    # Approved while Sam has not confirmed: the welcome goes to Alex only.
    alex_confirmed = alex.model_copy(update={"confirmed": True})
    approved = membership(
        MembershipApproved, facts, [alex_confirmed, sam], previous="pending", now="member"
    )
    await publish.registry(approved)
    [*_, welcome] = await mails_to(mail, "alex@lumbres.example", count=3)
    assert welcome.subject.startswith("Bienvenue dans le réseau")
    await settle()
    assert len(to(mail, "sam@lumbres.example")) == 1

    # Sam confirms after the decision: no acknowledgement of a decided application, and the
    # agency is not told twice.
    await publish.registry(confirmed(submitted, sam, first=False, status="approved"))
    await settle(1.0)
    assert len(to(mail, "sam@lumbres.example")) == 1
    assert len(to(mail, AGENCY_EMAIL)) == 1


async def test_a_link_that_is_altered_or_expired_gets_a_french_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    links = app.state.runtime.confirmations
    application: UUID = uuid4()
    expired = links.token(application, "alex@lumbres.example", utcnow() - timedelta(minutes=1))
    for method in ("GET", "POST"):
        gone = await client.request(method, f"/api/v1/confirmations/{expired}")
        assert gone.status_code == 410
        assert "Ce lien de confirmation a expiré le" in gone.text
        assert '<html lang="fr">' in gone.text
    valid = links.token(application, "alex@lumbres.example", utcnow() + timedelta(days=1))
    payload, _, signature = valid.partition(".")
    altered = await client.post(f"/api/v1/confirmations/{payload}.{signature[:-2]}xx")
    assert altered.status_code == 400
    assert f"Ce lien de confirmation n'est pas valide{NNBSP}:" in altered.text
    assert await published_confirmations(app) == []
