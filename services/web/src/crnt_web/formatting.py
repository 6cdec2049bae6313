"""How the pages say amounts, dates and states, in French (the mails say them the same way)."""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crnt_shared import labels, money
from crnt_shared.dates import MONTHS, PARIS

MEMBERSHIP = {
    "pending": "Demande en attente",
    "member": "Membre",
    "rejected": "Refusée",
    "suspended": "Suspendue",
    "withdrawn": "Retirée",
}
APPLICATION = {"pending": "En attente", "approved": "Approuvée", "rejected": "Refusée"}
PROGRAMME = labels.capitalised(labels.PROGRAMME_STATUSES)
ACTION = labels.capitalised(labels.ACTION_STATUSES)
AXES = labels.AXES
NATURES = labels.NATURES
#: The financing plan's state (``GET /budgets/{year}``, ``financing_status``).
PLAN_STATUS = labels.capitalised(labels.PLAN_STATUSES)
EXPENSE_KIND = {
    "action": "Action du programme",
    "network": "Ligne du réseau",
    "dotations": "Dotations des lieux",
}
#: What a budget version waits for (``waiting.missing``), in French; any other as it comes.
_MISSING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (
            r"^the population of (.+) \(SIREN (\d{9})\) is unknown$",
            r"la population de \1 (SIREN \2), inconnue ;"
            " renseignez-la dans la fiche de l’intercommunalité",
        ),
        (
            r"^no fixed share is given for (.+) \(SIREN (\d{9})\)$",
            r"la part fixe de \1 (SIREN \2), non donnée dans la configuration",
        ),
        (
            r"^no EPCI has a member centre in (\d{4}): nobody owes the reste à charge$",
            r"un lieu membre en \1 : aucune intercommunalité ne porte le reste à charge",
        ),
        (
            r"^the populations of the paying EPCIs are all zero$",
            "la population des intercommunalités : toutes sont à zéro",
        ),
        (
            r"^the fixed shares of the paying EPCIs are all zero$",
            "des parts fixes non nulles : toutes sont à zéro",
        ),
    )
)
DELIVERY = {
    "pending": "À envoyer",
    "coalescing": "Regroupé",
    "retrying": "Nouvel essai prévu",
    "sent": "Envoyé",
    "failed": "Échec",
    "suppressed": "Non envoyé (désabonnement)",
}
#: The DSFR badge of each state (colours never carry the meaning alone: the text does).
BADGES = {
    "balanced": "success",
    "over_funded": "warning",
    "awaiting_programme": "info",
    "member": "success",
    "approved": "success",
    "validated": "success",
    "done": "success",
    "sent": "success",
    "pending": "new",
    "submitted": "new",
    "proposed": "new",
    "planned": "info",
    "in_progress": "info",
    "draft": "info",
    "amending": "info",
    "suspended": "warning",
    "retrying": "warning",
    "rejected": "error",
    "withdrawn": "error",
    "failed": "error",
    "cancelled": "error",
}
TYPOLOGIES = {
    "EPN": "Espace public numérique",
    "BIB": "Bibliothèque, médiathèque",
    "CS": "Centre social",
    "MJC": "Maison des jeunes et de la culture",
    "FS": "France services",
    "MUNI": "Mairie",
    "TIERS_LIEUX": "Tiers-lieu",
    "ASSO": "Association",
}


def cents(amount: Any) -> int:
    """Integer cents of an API amount ("1234.56"); 0 for nothing."""
    if amount in (None, ""):
        return 0
    try:
        value = Decimal(str(amount)) * 100
    except InvalidOperation:
        return 0
    return int(value.to_integral_value())


def euros(amount: Any) -> str:
    """``"1234.56"`` → ``1 234,56 €``; a real minus sign before a negative amount."""
    return money.euros(cents(amount))


def signed_euros(amount: Any) -> str:
    return money.signed_euros(cents(amount))


def number(value: Any) -> str:
    try:
        return money.group_thousands(str(int(value)))
    except (TypeError, ValueError):
        return str(value)


def percent(value: Any) -> str:
    return f"{value}\u202f%"


def _moment(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if not value:
        return None
    text = str(value)
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def date_fr(value: Any) -> str:
    """``2026-12-01`` → ``1er décembre 2026``."""
    moment = _moment(value)
    if moment is None:
        return str(value or "")
    if isinstance(moment, datetime):
        moment = moment.astimezone(PARIS).date() if moment.tzinfo else moment.date()
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year}"


def datetime_fr(value: Any) -> str:
    """``1er décembre 2026 à 14 h 05`` (Paris time)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return date_fr(value)
    local = moment.astimezone(PARIS) if moment.tzinfo else moment
    return f"{date_fr(local)} à {local.hour}\u00a0h\u00a0{local.minute:02d}"


def label(mapping: dict[str, str], value: Any) -> str:
    return mapping.get(str(value), str(value))


def ratio_percent(value: Any) -> str:
    """A ratio in [0, 1] as a percentage: ``"0.2500"`` → ``25,0 %``."""
    try:
        share = Decimal(str(value)) * 100
    except InvalidOperation:
        return str(value)
    rounded = share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{rounded}".replace(".", ",") + "\u202f%"


def share_of(part: Any, whole: Any) -> str:
    """``part`` as a percentage of ``whole``, from the amounts themselves (an already rounded
    ratio rounded again could say 37,6 % for 37,549… %)."""
    total = cents(whole)
    if not total:
        return "—"
    return ratio_percent(Decimal(cents(part)) / Decimal(total))


def missing(message: Any) -> str:
    """What a budget version waits for, said in French."""
    text = str(message)
    for pattern, french in _MISSING:
        found = pattern.match(text)
        if found:
            return found.expand(french)
    return text
