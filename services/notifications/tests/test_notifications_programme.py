"""The programme's rows of the table: a validated programme tells every member centre's animators
the programme by axis and the actions their centre takes part in; an action's new state is told
to the animators of the centres taking part, and to them only. Events are built from the
programme's contracts and go through the real Kafka; a redelivered event sends nothing more."""

import uuid
from datetime import date, timedelta

import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.contracts.programme import (
    AXES,
    ActionFacts,
    ActionStatusChanged,
    ActionStatusChangedData,
    Participant,
    ProgrammeValidated,
    ProgrammeValidatedData,
    ValidatedAction,
)
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, CentreUpdated
from crnt_shared.contracts.registry import CentreUpdatedData as CentreData
from crnt_shared.events import utcnow
from crnt_shared.money import amount_from_cents
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    CCPL,
    Desk,
    Publish,
    animators,
    centre,
    mails_to,
    settle,
    to,
)

pytestmark = pytest.mark.integration

NNBSP, NBSP = "\u202f", "\u00a0"
SOURCE = "/crnt/programme"


class Network:
    """Four centres known to the service (by ``CentreUpdated``: no email of their own): three
    members and a suspended one; Sam animates both Arques and Lumbres."""

    def __init__(self) -> None:
        self.arques = centre("Médiathèque d'Arques")
        self.lumbres = centre("EPN de Lumbres", commune="Lumbres", epci=CCPL)
        self.wizernes = centre("Tiers-lieu de Wizernes", commune="Wizernes")
        self.aire = centre("Cyber-base d'Aire", status="suspended", commune="Aire-sur-la-Lys")
        self.people: dict[uuid.UUID, list[AnimatorFacts]] = {
            self.arques.id: animators(
                "lea@arques.example", "tom@arques.example", "sam@both.example"
            ),
            self.lumbres.id: animators("alex@lumbres.example", "sam@both.example"),
            self.wizernes.id: animators("kim@wizernes.example"),
            self.aire.id: animators("noa@aire.example"),
        }

    @property
    def centres(self) -> list[CentreFacts]:
        return [self.arques, self.lumbres, self.wizernes, self.aire]

    async def known_by(self, app: FastAPI, publish: Publish) -> None:
        await publish.registry(
            *[
                CentreUpdated.create(
                    source="/crnt/registry",
                    subject=str(facts.id),
                    data=CentreData(changed=["nom"], centre=facts, animators=self.people[facts.id]),
                )
                for facts in self.centres
            ]
        )
        runtime = app.state.runtime

        async def recorded() -> bool:
            async with runtime.unit_of_work() as uow:
                count = await uow.connection.fetchval("SELECT count(*) FROM animators")
            return bool(count == 7)

        await wait_until(recorded, message="the centres and animators in the read model")


def participant(facts: CentreFacts, *, lead: bool = False) -> Participant:
    return Participant(centre_id=facts.id, centre_name=facts.nom, lead=lead)


def validated_action(
    title: str,
    axis: str,
    cents: int,
    lead: CentreFacts,
    *others: CentreFacts,
    status: str = "planned",
    starts_on: date = date(2026, 3, 2),
) -> ValidatedAction:
    return ValidatedAction(
        id=uuid.uuid4(),
        axis=axis,
        title=title,
        status=status,
        lead_centre_id=lead.id,
        needs_lead=False,
        participants=[participant(lead, lead=True), *(participant(o) for o in others)],
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=120),
        estimated_cost=amount_from_cents(cents),
    )


def programme_validated(actions: list[ValidatedAction], *, version: int = 1) -> ProgrammeValidated:
    """As the programme service makes it: every axis in the totals, cancelled actions listed
    but not counted."""
    counted = [action for action in actions if action.status != "cancelled"]
    totals = {
        axis: sum(int(float(a.estimated_cost) * 100) for a in counted if a.axis == axis)
        for axis in AXES
    }
    data = ProgrammeValidatedData(
        year=2026,
        version=version,
        validated_at=utcnow(),
        decided_on=date(2026, 1, 15),
        deciding_body="Comité de pilotage",
        decision_reference="COPIL-2026-01",
        totals_by_axis={axis: amount_from_cents(cents) for axis, cents in totals.items()},
        total=amount_from_cents(sum(totals.values())),
        actions=actions,
    )
    return ProgrammeValidated.create(source=SOURCE, subject="2026", data=data)


def status_changed(
    action: ValidatedAction, *, previous: str, status: str, reason: str | None = None
) -> ActionStatusChanged:
    # The action as validated, in its new state.
    facts = ActionFacts.model_validate(
        {
            **dict(action),
            "year": 2026,
            "description": "Des ateliers hebdomadaires dans chaque lieu participant.",
            "status": status,
            "progress": 35 if status == "cancelled" else 0,
        }
    )
    data = ActionStatusChangedData(
        action=facts,
        previous_status=previous,
        status=status,
        reason=reason,
        by="agency",
        at=utcnow(),
    )
    return ActionStatusChanged.create(source=SOURCE, subject=str(action.id), data=data)


@pytest.fixture
async def network(app: FastAPI, publish: Publish) -> Network:
    """The four centres, once the service's read model knows them and their animators."""
    network = Network()
    await network.known_by(app, publish)
    return network


@pytest.fixture
def seniors(network: Network) -> ValidatedAction:
    return validated_action(
        "Ateliers numériques pour les seniors", "ateliers", 150_000, network.arques, network.lumbres
    )


async def test_a_validated_programme_tells_each_member_animator_its_centres_actions(
    desk: Desk, network: Network, seniors: ValidatedAction
) -> None:
    party = validated_action(
        "Fête du numérique", "evenements", 123_456, network.lumbres, starts_on=date(2026, 10, 3)
    )
    dropped = validated_action(
        "Formation aux démarches en ligne", "formation", 80_000, network.arques, status="cancelled"
    )
    event = programme_validated([party, dropped, seniors])
    await desk.publish.programme(event, event)  # delivered twice

    axes = [
        f"- Communication\u202f: 0,00{NBSP}€ (aucune action)",
        f"- Ateliers communs\u202f: 1{NNBSP}500,00{NBSP}€ (1 action)",
        f"- Évènements\u202f: 1{NNBSP}234,56{NBSP}€ (1 action)",
        f"- Formation des animateurs\u202f: 0,00{NBSP}€ (aucune action)",
        f"- Acquisition de matériel partagé\u202f: 0,00{NBSP}€ (aucune action)",
        f"Total\u202f: 2{NNBSP}734,56{NBSP}€",
    ]
    for address in ("lea@arques.example", "tom@arques.example"):
        [message] = await mails_to(desk.mail, address)
        assert message.subject == "Programme de travail 2026 du réseau validé"
        text = message.text
        assert (
            "Le programme de travail 2026 du réseau a été validé le 15 janvier 2026"
            " (Comité de pilotage, COPIL-2026-01)." in text
        )
        assert "Le programme par axe (2 actions, coûts estimés)\u202f:" in text
        assert "\n".join(axes) in text
        assert "Les actions auxquelles «\u202fMédiathèque d'Arques\u202f» participe\u202f:" in text
        assert "- Ateliers numériques pour les seniors (Ateliers communs)" in text
        assert f"Du 2 mars 2026 au 30 juin 2026, coût estimé\u202f: 1{NNBSP}500,00{NBSP}€" in text
        assert "Votre lieu pilote cette action, avec\u202f: EPN de Lumbres." in text
        assert "- Formation aux démarches en ligne (Formation des animateurs)" in text
        assert "Action annulée\u202f: elle n'aura pas lieu" in text
        assert "Fête du numérique" not in text  # Arques does not take part
        assert "http://notifications.test/api/v1/unsubscribe?token=" in text
        assert "Médiathèque d&#39;Arques" in message.html
        assert f"<strong>2{NNBSP}734,56{NBSP}€</strong>" in message.html

    [lumbres] = await mails_to(desk.mail, "alex@lumbres.example")
    assert "Les actions auxquelles «\u202fEPN de Lumbres\u202f» participe\u202f:" in lumbres.text
    assert "Pilote\u202f: Médiathèque d'Arques." in lumbres.text  # the seniors' workshops
    assert "- Fête du numérique (Évènements)" in lumbres.text
    assert "Du 3 octobre 2026 au 31 janvier 2027" in lumbres.text
    assert "Votre lieu pilote cette action." in lumbres.text  # the party, alone
    assert "Formation aux démarches" not in lumbres.text
    assert lumbres.text.index("Ateliers numériques") < lumbres.text.index("Fête du numérique")

    [both] = await mails_to(desk.mail, "sam@both.example")  # one email, both centres in it
    assert "Les actions auxquelles «\u202fMédiathèque d'Arques\u202f» participe\u202f:" in both.text
    assert "Les actions auxquelles «\u202fEPN de Lumbres\u202f» participe\u202f:" in both.text

    [none] = await mails_to(desk.mail, "kim@wizernes.example")
    assert "\n".join(axes) in none.text
    assert (
        "«\u202fTiers-lieu de Wizernes\u202f» ne participe à aucune action de ce programme."
        in none.text
    )

    await settle(1.0)
    assert to(desk.mail, "noa@aire.example") == []  # suspended: not a member now
    assert len(desk.mail.messages) == 5
    page = await desk.deliveries(event=str(event.id))
    assert page["total"] == 5
    assert {item["kind"] for item in page["items"]} == {"programme_validated"}


async def test_an_amended_programme_says_its_version(
    publish: Publish, mail: MailCatcher, network: Network, seniors: ValidatedAction
) -> None:
    await publish.programme(programme_validated([seniors], version=2))
    [message] = await mails_to(mail, "kim@wizernes.example")
    assert message.subject == "Programme de travail 2026 modifié\u202f: version 2 validée"
    assert "Voici sa version 2, qui remplace la précédente." in message.text


async def test_an_action_status_change_tells_the_centres_taking_part_only(
    desk: Desk, network: Network, seniors: ValidatedAction
) -> None:
    # The adoption by the validation is told by the programme's email, not once per action.
    adopted = status_changed(seniors, previous="proposed", status="planned")
    cancelled = status_changed(
        seniors, previous="planned", status="cancelled", reason="Pas de salle disponible."
    )
    await desk.publish.programme(adopted, cancelled, cancelled)  # the cancellation delivered twice

    for address in ("lea@arques.example", "tom@arques.example", "alex@lumbres.example"):
        [message] = await mails_to(desk.mail, address)
        assert message.subject == "Action annulée\u202f: Ateliers numériques pour les seniors"
        assert "État\u202f: programmée → annulée" in message.text
        assert "Motif\u202f: Pas de salle disponible." in message.text
        assert "Période\u202f: du 2 mars 2026 au 30 juin 2026" in message.text
        assert "Pilote\u202f: Médiathèque d'Arques" in message.text
        assert "Lieux participants\u202f: Médiathèque d'Arques, EPN de Lumbres" in message.text
        assert f"Coût estimé\u202f: 1{NNBSP}500,00{NBSP}€" in message.text
        assert "Avancement" not in message.text
    [arques] = to(desk.mail, "lea@arques.example")
    assert (
        "L'action «\u202fAteliers numériques pour les seniors\u202f»,"
        " que «\u202fMédiathèque d'Arques\u202f» pilote, a été annulée le" in arques.text
    )
    [lumbres] = to(desk.mail, "alex@lumbres.example")
    assert "à laquelle «\u202fEPN de Lumbres\u202f» participe, a été annulée le" in lumbres.text
    [both] = await mails_to(desk.mail, "sam@both.example")  # two centres taking part: one email
    assert "que «\u202fMédiathèque d'Arques\u202f» pilote" in both.text

    await settle(1.0)
    assert to(desk.mail, "kim@wizernes.example") == []
    assert to(desk.mail, "noa@aire.example") == []
    assert len(desk.mail.messages) == 4
    assert (await desk.deliveries(event=str(adopted.id)))["total"] == 0
    page = await desk.deliveries(event=str(cancelled.id))
    assert page["total"] == 4

    desk.mail.clear()
    started = status_changed(seniors, previous="planned", status="in_progress")
    await desk.publish.programme(started)
    [message] = await mails_to(desk.mail, "alex@lumbres.example")
    assert message.subject == "Action démarrée\u202f: Ateliers numériques pour les seniors"
    assert "a démarré le" in message.text
    assert "elle est désormais en cours" in message.text
    assert f"Avancement\u202f: 0{NNBSP}%" in message.text


async def test_animators_opted_out_of_the_programme_get_none_of_it(
    desk: Desk, network: Network, seniors: ValidatedAction
) -> None:
    response = await desk.client.put(
        "/api/v1/preferences/tom@arques.example",
        json={"opted_out": ["programme"]},
        headers=desk.agency,
    )
    assert response.status_code == 200, response.text
    await desk.publish.programme(
        programme_validated([seniors]),
        status_changed(seniors, previous="planned", status="done"),
    )
    received = await mails_to(desk.mail, "lea@arques.example", 2)
    assert sorted(m.subject for m in received) == [
        "Action terminée\u202f: Ateliers numériques pour les seniors",
        "Programme de travail 2026 du réseau validé",
    ]
    assert "programme de travail et actions" in received[0].text  # what the link opts out of
    await settle(1.0)
    assert to(desk.mail, "tom@arques.example") == []
    suppressed = await desk.deliveries(recipient="tom@arques.example")
    assert sorted((item["kind"], item["status"]) for item in suppressed["items"]) == [
        ("action_status_changed", "suppressed"),
        ("programme_validated", "suppressed"),
    ]
