"""Every kind renders a French subject, plain text and HTML; links and amounts are right."""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any
from uuid import uuid4

import pytest
from crnt_notifications.domain import Kind, category_of, summarise_arrivals
from crnt_notifications.formatting import of_place
from crnt_notifications.links import (
    ConfirmationLinks,
    ExpiredToken,
    InvalidToken,
    UnsubscribeLinks,
)
from crnt_notifications.templates import Rendered, Renderer, header_text

#: The standard library's SMTP policy, headers folded only past RFC 5322's hard limit.
POLICY = SMTP.clone(max_line_length=998)

CENTRE = {
    "nom": "Médiathèque <l'Escale>",
    "adresse": "2 rue des Tanneurs",
    "code_postal": "62510",
    "commune": "Arques",
    "epci_name": "CAPSO",
    "typologie": ["BIB", "EPN"],
    "workstations": 8,
}
AT = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)

CONFIRMATION_URL = "https://crnt.example/api/v1/confirmations/abc.def"

CONTEXTS: dict[Kind, dict[str, Any]] = {
    Kind.ADDRESS_CONFIRMATION: {
        "centre": CENTRE,
        "email": "alex@arques.example",
        "expires_at": AT,
        "confirmation_url": CONFIRMATION_URL,
    },
    Kind.APPLICATION_RECEIVED: {
        "centre": CENTRE,
        "animators": [{"name": "Alex Dupont", "email": "alex@arques.example"}],
        "submitted_at": AT,
        "channel": "form",
    },
    Kind.APPLICATIONS_IMPORTED: {
        "total": 2,
        "centres": [
            {"nom": "EPN de Lumbres", "commune": "Lumbres", "epci_name": "CCPL"},
            {"nom": "Cyber-base d'Arques", "commune": "Arques", "epci_name": "CAPSO"},
        ],
        "summary": None,
        "since": date(2026, 5, 1),
        "list_url": "https://crnt.example/agence/demandes?statut=pending",
    },
    Kind.APPLICATION_ACKNOWLEDGED: {"centre": CENTRE, "submitted_at": AT},
    Kind.MEMBERSHIP_WELCOME: {"centre": CENTRE, "at": AT},
    Kind.MEMBERSHIP_REJECTED: {"centre": CENTRE, "at": AT, "reason": "Hors du territoire"},
    Kind.MEMBERSHIP_SUSPENDED: {"centre": CENTRE, "at": AT, "reason": "Travaux"},
    Kind.MEMBERSHIP_REINSTATED: {"centre": CENTRE, "at": AT, "reason": None},
    Kind.MEMBERSHIP_WITHDRAWN: {"centre": CENTRE, "at": AT, "reason": "Fermeture"},
    Kind.AGENCY_MEMBERSHIP_CHANGED: {
        "centre": CENTRE,
        "at": AT,
        "reason": "Travaux",
        "by": "agency",
        "previous_status": "member",
        "status": "suspended",
        "transition": "Adhésion suspendue",
    },
    Kind.AGENCY_TEAM_CHANGED: {
        "centre": CENTRE,
        "animator": {"name": "Marc Petit", "email": "marc.petit@arques.example"},
        "by": "Claire Dupont",
        "added": True,
    },
    Kind.NEW_MEMBERS: {
        "total": 2,
        "centres": [
            {"nom": "EPN de Lumbres", "commune": "Lumbres", "epci_name": "CCPL"},
            {"nom": "Cyber-base d'Arques", "commune": "Arques", "epci_name": "CAPSO"},
        ],
        "summary": None,
        "since": date(2026, 5, 1),
        "list_url": "https://crnt.example/lieux?depuis=2026-05-01",
    },
    Kind.SHARE_CHANGED: {
        "centre": {"nom": "EPN de Lumbres", "commune": "Lumbres"},
        "year": 2026,
        "version": 3,
        "amount_cents": 123_456,
        "previous_cents": 150_000,
        "change_cents": -26_544,
        "causes": ["l'adhésion de votre lieu au réseau"],
    },
    Kind.PARTICIPATION_EXCEEDED: {
        "year": 2026,
        "version": 4,
        "epcis": [
            {
                "siren": "200069037",
                "name": "CAPSO",
                "voted_cents": 1_200_000,
                "asked_cents": 1_500_000,
                "deliberation_number": "2026-042",
                "deliberation_date": date(2026, 3, 12),
            }
        ],
    },
    Kind.PROGRAMME_VALIDATED: {
        "year": 2026,
        "version": 1,
        "decided_on": date(2026, 1, 15),
        "deciding_body": "Comité de pilotage",
        "decision_reference": None,
        "axes": [
            {"axis": "ateliers", "amount_cents": 150_000, "count": 1},
            {"axis": "nouvel_axe", "amount_cents": 0, "count": 0},
        ],
        "total_cents": 150_000,
        "action_count": 1,
        "centres": [
            {
                "nom": "Médiathèque <l'Escale>",
                "actions": [
                    {
                        "title": "Ateliers <seniors>",
                        "axis": "ateliers",
                        "status": "planned",
                        "starts_on": date(2026, 3, 2),
                        "ends_on": date(2026, 6, 30),
                        "estimated_cents": 150_000,
                        "leads": False,
                        "lead_name": None,
                        "needs_lead": True,
                        "others": ["EPN de Lumbres"],
                    }
                ],
            }
        ],
    },
    Kind.ACTION_STATUS_CHANGED: {
        "action": {
            "title": "Ateliers <seniors>",
            "description": "Chaque semaine",
            "axis": "ateliers",
            "year": 2026,
            "starts_on": date(2026, 3, 2),
            "ends_on": date(2026, 6, 30),
            "estimated_cents": 150_000,
            "actual_cents": 142_000,
            "progress": 100,
            "progress_note": "12 séances",
            "needs_lead": False,
            "lead_name": "Médiathèque <l'Escale>",
            "centres": ["Médiathèque <l'Escale>", "EPN de Lumbres"],
        },
        "centre": {"nom": "Médiathèque <l'Escale>", "leads": True},
        "previous_status": "in_progress",
        "status": "done",
        "reason": None,
        "at": AT,
    },
}

SUBJECTS = {
    Kind.ADDRESS_CONFIRMATION: (
        "Confirmez votre adresse pour la demande d'adhésion de Médiathèque <l'Escale>"
    ),
    Kind.APPLICATION_RECEIVED: "Nouvelle demande d'adhésion\u202f: Médiathèque <l'Escale> (Arques)",
    Kind.APPLICATIONS_IMPORTED: "2 demandes d'adhésion importées",
    Kind.APPLICATION_ACKNOWLEDGED: "Votre demande d'adhésion au réseau a bien été reçue",
    Kind.MEMBERSHIP_WELCOME: (
        "Bienvenue dans le réseau\u202f: Médiathèque <l'Escale> est désormais membre"
    ),
    Kind.MEMBERSHIP_REJECTED: "Votre demande d'adhésion au réseau n'a pas été retenue",
    Kind.MEMBERSHIP_SUSPENDED: "Adhésion suspendue\u202f: Médiathèque <l'Escale>",
    Kind.MEMBERSHIP_REINSTATED: "Adhésion rétablie\u202f: Médiathèque <l'Escale>",
    Kind.MEMBERSHIP_WITHDRAWN: "Retrait du réseau\u202f: Médiathèque <l'Escale>",
    Kind.AGENCY_MEMBERSHIP_CHANGED: "Adhésion suspendue\u202f: Médiathèque <l'Escale> (Arques)",
    Kind.AGENCY_TEAM_CHANGED: "Équipe d’animation modifiée\u202f: Médiathèque <l'Escale> (Arques)",
    Kind.NEW_MEMBERS: "2 nouveaux membres dans le réseau",
    Kind.SHARE_CHANGED: "Dotation 2026 de l’EPN de Lumbres\u202f: 1\u202f234,56\u00a0€",
    Kind.PARTICIPATION_EXCEEDED: (
        "Budget 2026\u202f: la participation demandée à CAPSO dépasse sa participation votée"
    ),
    Kind.PROGRAMME_VALIDATED: "Programme de travail 2026 du réseau validé",
    Kind.ACTION_STATUS_CHANGED: "Action terminée\u202f: Ateliers <seniors>",
}


def test_every_kind_has_a_context_here() -> None:
    assert set(CONTEXTS) == set(Kind) == set(SUBJECTS)


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_renders_subject_text_and_html(kind: Kind) -> None:
    url = None if category_of(kind).essential else "https://crnt.example/api/v1/unsubscribe?token=t"
    rendered = Renderer().render(
        kind, {**CONTEXTS[kind], "recipient_name": "Alex Dupont"}, unsubscribe_url=url
    )
    assert rendered.subject == SUBJECTS[kind]
    assert "\n" not in rendered.subject
    assert rendered.text.startswith("Bonjour")
    assert "Centre de Ressources Numériques Territorial" in rendered.text
    for body in (rendered.text, rendered.html):  # the agency and a contact in every footer
        assert "développement de la région de Saint-Omer" in body
        assert "crnt@example.org" in body
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in rendered.html
    assert "Bonjour" in rendered.html
    assert "{{" not in rendered.text + rendered.html
    if url:
        assert url in rendered.text
        assert f'href="{url}"' in rendered.html
    elif kind is Kind.ADDRESS_CONFIRMATION:
        # Not "always sent": it is the one mail sent until the address confirms.
        assert "aucun autre message ne lui est envoyé" in rendered.text
        assert "aucun autre message ne lui est envoyé" in rendered.html
        assert "toujours envoyé" not in rendered.text + rendered.html
    else:
        assert "toujours envoyé" in rendered.text
        assert "unsubscribe" not in rendered.html


def test_html_escapes_names_and_text_does_not() -> None:
    rendered = _rendered(Kind.MEMBERSHIP_WELCOME)
    assert "Médiathèque &lt;l&#39;Escale&gt;" in rendered.html
    assert "Médiathèque <l'Escale>" in rendered.text
    assert rendered.text.startswith("Bonjour,\n")
    assert "24 novembre 2026" in rendered.text


def test_share_email_says_amount_previous_change_version_and_why() -> None:
    rendered = Renderer().render(
        Kind.SHARE_CHANGED,
        {**CONTEXTS[Kind.SHARE_CHANGED], "recipient_name": "Sam"},
        unsubscribe_url="https://x/u",
    )
    assert "Nouveau montant\u202f: 1\u202f234,56\u00a0€" in rendered.text
    assert "Montant précédent\u202f: 1\u202f500,00\u00a0€" in rendered.text
    assert "Évolution\u202f: \u2212265,44\u00a0€" in rendered.text
    assert "Version du budget estimatif\u202f: 3" in rendered.text
    assert "- l'adhésion de votre lieu au réseau" in rendered.text


def test_one_new_member_is_named_in_the_subject() -> None:
    context = {
        **_context(Kind.NEW_MEMBERS),
        "total": 1,
        "centres": CONTEXTS[Kind.NEW_MEMBERS]["centres"][:1],
    }
    rendered = Renderer().render(Kind.NEW_MEMBERS, context, unsubscribe_url="https://x/u")
    assert rendered.subject == "Un nouveau membre dans le réseau\u202f: EPN de Lumbres"
    assert "- EPN de Lumbres, Lumbres (CCPL)" in rendered.text
    assert "lieux?depuis" not in rendered.text + rendered.html  # listed: no link needed


def test_a_bulk_arrival_is_counted_by_epci_with_a_link_to_the_list() -> None:
    counts = Counter({f"Communauté {n:03d}": 1 + n % 97 for n in range(250)})
    counts.update({"CA du Pays de Saint-Omer": 1200, "CC du Pays de Lumbres": 1})
    summary = summarise_arrivals(counts)
    context = {
        **_context(Kind.NEW_MEMBERS),
        "total": summary.total,
        "centres": [],
        "summary": summary,
        "since": date(2026, 5, 1),
    }
    rendered = Renderer().render(Kind.NEW_MEMBERS, context, unsubscribe_url="https://x/u")
    total = f"{summary.total // 1000}{NN}{summary.total % 1000:03d}"
    assert rendered.subject == f"{total} nouveaux membres dans le réseau"
    assert (
        f"{total} nouveaux lieux ont rejoint le réseau des lieux de médiation numérique du"
        f" territoire. Par intercommunalité{NN}:\n\n"
        f"- CA du Pays de Saint-Omer{NN}: 1{NN}200 lieux\n" in rendered.text
    )
    lines = [line for line in rendered.text.splitlines() if line.startswith("- ")]
    assert len(lines) == 12  # eleven EPCIs, the most represented, and one line for the rest
    others = summary.other_centres
    assert lines[-1] == (
        f"- 241 autres intercommunalités{NN}: {others // 1000}{NN}{others % 1000:03d} lieux"
    )
    assert "CC du Pays de Lumbres" not in rendered.text
    assert (
        "Retrouvez-les tous, avec leur adresse et leurs horaires, dans la liste des lieux arrivés"
        f" depuis le 1er mai 2026{NN}:\nhttps://crnt.example/lieux?depuis=2026-05-01\n"
        in rendered.text
    )
    assert '<a href="https://crnt.example/lieux?depuis=2026-05-01">' in rendered.html
    assert f"<strong>CA du Pays de Saint-Omer</strong>{NN}: 1{NN}200 lieux</li>" in rendered.html
    assert len(rendered.text) + len(rendered.html) < 8_000


def test_a_summary_of_a_few_epcis_names_them_all_in_the_singular_where_one() -> None:
    summary = summarise_arrivals(Counter({"CCPL": 1, "CAPSO": 30}))
    assert [(e.name, e.count) for e in summary.epcis] == [("CAPSO", 30), ("CCPL", 1)]
    assert (summary.total, summary.other_epcis, summary.other_centres) == (31, 0, 0)
    context = {**_context(Kind.NEW_MEMBERS), "total": 31, "centres": [], "summary": summary}
    rendered = Renderer().render(Kind.NEW_MEMBERS, context, unsubscribe_url="https://x/u")
    assert f"- CAPSO{NN}: 30 lieux\n- CCPL{NN}: 1 lieu\n\nRetrouvez-les" in rendered.text
    assert "autre" not in rendered.text


def test_an_import_tells_the_agency_its_applications_by_epci_and_links_to_those_waiting() -> None:
    summary = summarise_arrivals(Counter({"CA du Pays de Saint-Omer": 1_200, "CCPL": 1}))
    context = {**_context(Kind.APPLICATIONS_IMPORTED), "total": 1_201, "summary": summary}
    rendered = Renderer().render(Kind.APPLICATIONS_IMPORTED, context, unsubscribe_url=None)
    assert rendered.subject == f"1{NN}201 demandes d'adhésion importées"
    assert (
        f"1{NN}201 demandes d'adhésion au réseau ont été déposées par l'import de fichiers CSV"
        f" depuis le 1er mai 2026. Par intercommunalité{NN}:\n\n"
        f"- CA du Pays de Saint-Omer{NN}: 1{NN}200 demandes\n- CCPL{NN}: 1 demande\n"
    ) in rendered.text
    assert "Les demandes attendent votre décision." in rendered.text
    assert "https://crnt.example/agence/demandes?statut=pending" in rendered.text
    assert '<a href="https://crnt.example/agence/demandes?statut=pending">' in rendered.html
    one = {
        **_context(Kind.APPLICATIONS_IMPORTED),
        "total": 1,
        "centres": CONTEXTS[Kind.APPLICATIONS_IMPORTED]["centres"][:1],
    }
    rendered = Renderer().render(Kind.APPLICATIONS_IMPORTED, one, unsubscribe_url=None)
    assert rendered.subject == f"Une demande d'adhésion importée{NN}: EPN de Lumbres (Lumbres)"
    assert "- EPN de Lumbres, Lumbres (CCPL)" in rendered.text
    assert "La demande attend votre décision." in rendered.text


def test_programme_email_names_axes_in_french_and_a_missing_lead() -> None:
    rendered = Renderer().render(
        Kind.PROGRAMME_VALIDATED,
        _context(Kind.PROGRAMME_VALIDATED),
        unsubscribe_url="https://x/u",
    )
    assert "validé le 15 janvier 2026 (Comité de pilotage)." in rendered.text
    assert "- Ateliers communs\u202f: 1\u202f500,00\u00a0€ (1 action)" in rendered.text
    assert "- nouvel_axe\u202f: 0,00\u00a0€ (aucune action)" in rendered.text  # added later
    assert (
        "Pilote\u202f: à désigner par l'agence\u202f; avec aussi\u202f: EPN de Lumbres."
        in rendered.text
    )
    assert "Ateliers &lt;seniors&gt;" in rendered.html


@pytest.mark.parametrize(
    ("status", "subject", "sentence"),
    [
        ("in_progress", "Action démarrée", "a démarré le 24 novembre 2026"),
        ("done", "Action terminée", "est terminée depuis le 24 novembre 2026"),
        ("cancelled", "Action annulée", "a été annulée le 24 novembre 2026"),
        ("planned", "Action programmée", "est désormais programmée"),
        ("paused", "Action paused", "est désormais paused"),  # a state added later
    ],
)
def test_each_new_state_of_an_action_has_its_words(
    status: str, subject: str, sentence: str
) -> None:
    context = {**CONTEXTS[Kind.ACTION_STATUS_CHANGED], "status": status, "recipient_name": None}
    rendered = Renderer().render(Kind.ACTION_STATUS_CHANGED, context, unsubscribe_url="https://x")
    assert rendered.subject == f"{subject}\u202f: Ateliers <seniors>"
    assert sentence in rendered.text
    assert "que «\u202fMédiathèque <l'Escale>\u202f» pilote" in rendered.text
    assert sentence in rendered.html
    assert "Médiathèque &lt;l&#39;Escale&gt;" in rendered.html
    assert "Coût réel\u202f: 1\u202f420,00\u00a0€" in rendered.text
    if status == "cancelled":
        assert "Motif\u202f: aucun motif n'a été précisé." in rendered.text
        assert "Avancement" not in rendered.text
    else:
        assert "Avancement\u202f: 100\u202f% (12 séances)" in rendered.text


def test_rejection_without_reason_says_so() -> None:
    context = {**CONTEXTS[Kind.MEMBERSHIP_REJECTED], "reason": None, "recipient_name": None}
    rendered = Renderer().render(Kind.MEMBERSHIP_REJECTED, context, unsubscribe_url=None)
    assert "Motif\u202f: aucun motif n'a été précisé." in rendered.text


def test_unsubscribe_tokens_round_trip_and_refuse_tampering() -> None:
    from crnt_notifications.domain import Category

    links = UnsubscribeLinks("s3cret", "https://crnt.example/")
    token = links.token("Alex@Example.org", Category.BUDGET)
    found = links.verify(token)
    assert (found.email, found.category) == ("alex@example.org", Category.BUDGET)
    assert links.url("alex@example.org", Category.BUDGET).startswith(
        "https://crnt.example/api/v1/unsubscribe?token="
    )
    payload, _, signature = token.partition(".")
    forged = UnsubscribeLinks("s3cret", "").token("someone@else.org", Category.BUDGET)
    for bad in [
        f"{forged.partition('.')[0]}.{signature}",
        f"{payload}.{signature[:-2]}xx",
        payload,
        "",
        f"{payload}.{uuid4().hex}",
    ]:
        with pytest.raises(InvalidToken):
            links.verify(bad)
    with pytest.raises(InvalidToken):
        UnsubscribeLinks("another", "").verify(token)


NN = "\u202f"


def _context(kind: Kind) -> dict[str, Any]:
    return {**CONTEXTS[kind], "recipient_name": None}


def _rendered(kind: Kind) -> Rendered:
    """The mail of ``kind`` for this file's context, without an unsubscribe link."""
    return Renderer().render(kind, _context(kind), unsubscribe_url=None)


def test_a_place_is_named_with_its_article() -> None:
    for name, said in [
        ("Centre social Inter Générations", "du Centre social Inter Générations"),
        ("Médiathèque d'Arques", "de la Médiathèque d'Arques"),
        ("Espace numérique de Lumbres", "de l’Espace numérique de Lumbres"),
        ("EPN de Lumbres", "de l’EPN de Lumbres"),
        ("Le Cyber-Espace", "du Cyber-Espace"),
        ("La Station", "de la Station"),
        ("Les Ateliers du Haut-Pont", "des Ateliers du Haut-Pont"),
        ("L'Escale", "de l’Escale"),
        ("France services de Lumbres", "de « France services de Lumbres »"),
    ]:
        assert of_place(name) == said


def test_share_subject_uses_the_article_of_the_name() -> None:
    context = {
        **CONTEXTS[Kind.SHARE_CHANGED],
        "centre": {"nom": "Centre social Inter Générations"},
        "recipient_name": None,
    }
    rendered = Renderer().render(Kind.SHARE_CHANGED, context, unsubscribe_url="https://x/u")
    assert rendered.subject.startswith("Dotation 2026 du Centre social Inter Générations" + NN)


def test_the_footer_names_the_configured_agency_and_contact() -> None:
    renderer = Renderer(agency="Agence du Pays de Lumbres", contact="contact@lumbres.example")
    rendered = renderer.render(
        Kind.MEMBERSHIP_WELCOME,
        _context(Kind.MEMBERSHIP_WELCOME),
        unsubscribe_url=None,
    )
    assert f"Contact{NN}: contact@lumbres.example" in rendered.text
    assert 'href="mailto:contact@lumbres.example"' in rendered.html
    assert "Agence du Pays de Lumbres" in rendered.html


def test_reinstatement_does_not_promise_the_actions_back() -> None:
    rendered = _rendered(Kind.MEMBERSHIP_REINSTATED)
    for body in (rendered.text, rendered.html):
        # A centre receives a dotation: "quote-part" is what an EPCI pays.
        assert "sa dotation" in body
        assert "quote-part" not in body
        assert "ne lui sont pas rendues d'elles-mêmes" in body
        assert "ses actions, ses informations" not in body


def test_suspension_says_the_network_news_still_come() -> None:
    rendered = _rendered(Kind.MEMBERSHIP_SUSPENDED)
    for body in (rendered.text, rendered.html):
        assert "Vous continuez de recevoir les informations du réseau" in body
        assert "n'en reçoit plus les informations" not in body


def test_an_imported_application_says_it_names_no_animator_yet() -> None:
    context = {
        **CONTEXTS[Kind.APPLICATION_RECEIVED],
        "channel": "import",
        "animators": [],
        "recipient_name": None,
    }
    rendered = Renderer().render(Kind.APPLICATION_RECEIVED, context, unsubscribe_url=None)
    for body in (rendered.text, rendered.html):
        assert "aucun pour le moment (le fichier du standard national ne nomme pas" in body
    assert f"Animateurs et animatrices{NN}:\n\n" not in rendered.text


def test_mails_get_the_french_typography() -> None:
    rendered = Renderer().render(
        Kind.SHARE_CHANGED,
        _context(Kind.SHARE_CHANGED),
        unsubscribe_url="https://x/u?token=t",
    )
    assert f"Nouveau montant{NN}: 1{NN}234,56\u00a0€" in rendered.text
    assert f"«{NN}" in rendered.text
    assert f"{NN}»" in rendered.text
    assert "https://x/u?token=t" in rendered.text  # links untouched


def _renamed(value: Any, name: str) -> Any:
    """``value`` with every centre named ``name``."""
    if isinstance(value, dict):
        return {k: name if k == "nom" else _renamed(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(item, name) for item in value]
    return value


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1b", "\r\n"])
def test_a_name_with_a_line_separator_still_makes_a_subject_a_mail_can_carry(
    kind: Kind, separator: str
) -> None:
    context = _renamed({**CONTEXTS[kind], "recipient_name": "Alex"}, f"Espace{separator}Arques")
    rendered = Renderer().render(kind, context, unsubscribe_url=None)
    assert separator not in rendered.subject
    if "Espace" in rendered.subject:
        assert "Espace Arques" in rendered.subject
    message = EmailMessage(policy=POLICY)
    message["Subject"] = rendered.subject
    message.set_content(rendered.text)
    assert b"Subject: " in message.as_bytes(policy=POLICY)


def test_header_text_keeps_no_break_spaces() -> None:
    assert (
        header_text("1\u202f234,00\u00a0€\u2028 de\x0bplus\x85 ") == "1\u202f234,00\u00a0€ de plus"
    )


NNBSP = "\u202f"


def test_the_agency_hears_who_changed_a_team() -> None:
    rendered = Renderer().render(
        Kind.AGENCY_TEAM_CHANGED,
        {**CONTEXTS[Kind.AGENCY_TEAM_CHANGED], "recipient_name": None},
        unsubscribe_url="https://crnt.example/u",
    )
    text = re.sub(r"[ \n]+", " ", rendered.text)
    assert (
        f"Claire Dupont, animateur ou animatrice de «{NNBSP}Médiathèque <l'Escale>{NNBSP}»" in text
    )
    assert "a ajouté Marc Petit (marc.petit@arques.example) à l’équipe d’animation" in text
    assert "Marc Petit" in rendered.html
    assert "&lt;l&#39;Escale&gt;" in rendered.html or "&lt;l'Escale&gt;" in rendered.html


def test_the_confirmation_request_says_what_to_do_in_french() -> None:
    rendered = Renderer().render(
        Kind.ADDRESS_CONFIRMATION,
        {**CONTEXTS[Kind.ADDRESS_CONFIRMATION], "recipient_name": "Alex Dupont"},
        unsubscribe_url=None,
    )
    text = re.sub(r"[ \n]+", " ", rendered.text)  # the lines are wrapped
    assert "Votre adresse alex@arques.example a été indiquée" in text
    assert f"pour «{NNBSP}Médiathèque <l'Escale>{NNBSP}» (Arques)" in text
    assert f"avant le 24 novembre 2026 à 10\u00a0h\u00a015 en ouvrant ce lien{NNBSP}:" in text
    assert CONFIRMATION_URL in rendered.text
    assert f'href="{CONFIRMATION_URL}"' in rendered.html
    assert (
        f"Vous n'êtes pas à l'origine de cette demande{NNBSP}? Ignorez ce message{NNBSP}:" in text
    )
    # Narrow no-break spaces only, before the French high punctuation of this mail.
    for text_or_html in (rendered.text, rendered.html):
        for mark in ":?!;":
            assert f" {mark}" not in text_or_html.replace("https:", "")


def test_confirmation_tokens_round_trip_expire_and_refuse_tampering() -> None:
    links = ConfirmationLinks("s3cret", "https://crnt.example/")
    application = uuid4()
    expires = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)
    token = links.token(application, "Alex@Example.org", expires)
    found = links.verify(token, expires - timedelta(seconds=1))
    assert (found.application_id, found.email, found.expires_at) == (
        application,
        "alex@example.org",
        expires,
    )
    assert links.url(application, "alex@example.org", expires) == (
        f"https://crnt.example/api/v1/confirmations/{token}"
    )
    assert "alex" not in token  # not readable at a glance
    assert str(application) not in token
    with pytest.raises(ExpiredToken) as expired:
        links.verify(token, expires)
    assert expired.value.expired_at == expires
    payload, _, signature = token.partition(".")
    other = links.token(uuid4(), "alex@example.org", expires)
    for bad in [f"{other.partition('.')[0]}.{signature}", f"{payload}.{signature[:-2]}xx", ""]:
        with pytest.raises(InvalidToken):
            links.verify(bad, expires - timedelta(days=1))
    # Another secret, or an unsubscribe token made with the same secret, is refused.
    with pytest.raises(InvalidToken):
        ConfirmationLinks("another", "").verify(token, expires - timedelta(days=1))
    from crnt_notifications.domain import Category

    unsubscribe = UnsubscribeLinks("s3cret", "").token("alex@example.org", Category.BUDGET)
    with pytest.raises(InvalidToken):
        links.verify(unsubscribe, expires - timedelta(days=1))
