"""The registry's rules, without I/O: identifiers, the national standard's vocabularies, the
membership state machine, and the centre as the standard ``standard-mediation-num`` (v1.0.2)
names its fields."""

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Protocol

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before
from crnt_shared.standard import SERVICES

# The stub of opening-hours-py does not declare ParserError.
from opening_hours import OpeningHours, ParserError  # type: ignore[attr-defined]
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

#: What the national data uses when a place's SIRET is unknown: shared by many places, so it is
#: never a key and never a duplicate.
PIVOT_PLACEHOLDER = "00000000000000"
#: La Poste's establishments share one SIREN and follow their own SIRET check.
LA_POSTE_SIREN = "356000000"

_RNA = re.compile(r"^W\d{9}$")
_DIGITS = re.compile(r"^\d+$")
_CODE_POSTAL = re.compile(r"^\d{5}$")
_CODE_INSEE = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
_TELEPHONE = re.compile(r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}$")


def siret_valid(siret: str) -> bool:
    """INSEE's checks (python-stdnum): the SIREN's Luhn digit, then the SIRET's, with La Poste's
    exception (its establishments share one SIREN and their digits add up to a multiple of 5)."""
    return bool(stdnum_siret.is_valid(siret)) and len(siret) == 14


def validate_siren(value: str) -> str:
    siren = value.replace(" ", "")
    if len(siren) != 9 or not _DIGITS.match(siren):
        raise ValueError(f"a SIREN has 9 digits; '{value}' does not")
    if not stdnum_siren.is_valid(siren):
        raise ValueError(f"SIREN {siren} fails its checksum (Luhn): check for a mistyped digit")
    return siren


def validate_pivot(value: str) -> str:
    pivot = value.replace(" ", "")
    if pivot == PIVOT_PLACEHOLDER or _RNA.match(pivot):
        return pivot
    if len(pivot) == 14 and _DIGITS.match(pivot):
        if not pivot.startswith(LA_POSTE_SIREN) and not stdnum_siren.is_valid(pivot[:9]):
            raise ValueError(
                f"SIRET {pivot} starts with SIREN {pivot[:9]}, which fails its checksum (Luhn):"
                " check for a mistyped digit in the first nine"
            )
        if not siret_valid(pivot):
            raise ValueError(f"SIRET {pivot} fails its checksum (Luhn): check for a mistyped digit")
        return pivot
    raise ValueError(
        f"pivot '{value}' is neither a SIRET (14 digits) nor an RNA number (W and 9 digits);"
        f" use {PIVOT_PLACEHOLDER} when the SIRET is unknown"
    )


def validate_code_postal(value: str) -> str:
    if not _CODE_POSTAL.match(value):
        raise ValueError(f"a postal code has 5 digits; '{value}' does not")
    return value


def validate_code_insee(value: str) -> str:
    if not _CODE_INSEE.match(value):
        raise ValueError(
            f"'{value}' is not an INSEE commune code (5 characters such as 62765 or 2A004):"
            " find it on https://www.insee.fr/fr/recherche/recherche-geographique"
        )
    return value


def validate_telephone(value: str) -> str:
    if not _TELEPHONE.match(value):
        raise ValueError(
            f"'{value}' is not in the international format the standard asks for"
            " (e.g. +33321129494: country code, no leading 0, no spaces)"
        )
    return value


# The data·inclusion structure typologies that the standard refers to.
TYPOLOGIES = frozenset(
    [
        "ACI",
        "ACIPHC",
        "AFPA",
        "AI",
        "ASE",
        "ASSO",
        "ASSO_CHOMEUR",
        "AVIP",
        "BIB",
        "CAARUD",
        "CADA",
        "CAF",
        "CAP_EMPLOI",
        "CAVA",
        "CC",
        "CCAS",
        "CCONS",
        "CD",
        "CDAS",
        "CHRS",
        "CHU",
        "CIAS",
        "CIDFF",
        "CITMET",
        "CMP",
        "CMS",
        "CPAM",
        "CPH",
        "CS",
        "CSAPA",
        "CSC",
        "DEETS",
        "DEPT",
        "DIPLP",
        "E2C",
        "EA",
        "EATT",
        "EI",
        "EITI",
        "ENM",
        "EPCI",
        "EPIDE",
        "EPN",
        "ES",
        "ESAT",
        "ESS",
        "ETABL_PRI",
        "ETABL_PUB",
        "ETAT",
        "ETTI",
        "EVS",
        "FABLAB",
        "FAIS",
        "FT",
        "GEIQ",
        "HUDA",
        "LA_POSTE",
        "MDE",
        "MDEF",
        "MDPH",
        "MDS",
        "MJC",
        "ML",
        "MQ",
        "MSA",
        "MSAP",
        "MUNI",
        "OACAS",
        "OCASF",
        "ODC",
        "OF",
        "OHPD",
        "OIL",
        "OPCS",
        "PAD",
        "PE",
        "PENSION",
        "PI",
        "PIJ_BIJ",
        "PIMMS",
        "PJJ",
        "PLIE",
        "PREF",
        "PREVENTION",
        "REG",
        "RESSOURCERIE",
        "RFS",
        "RS_FJT",
        "SCP",
        "SEP",
        "SPIP",
        "TIERS_LIEUX",
        "UDAF",
        "Autre",
    ]
)


#: The standard's other closed lists, by field.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "services": SERVICES,
    "itinerance": ("Itinérant", "Fixe"),
    "publics_specifiquement_adresses": (
        "Jeunes",
        "Étudiants",
        "Familles et/ou enfants",
        "Seniors",
        "Femmes",
    ),
    "prise_en_charge_specifique": (
        "Surdité",
        "Handicaps moteurs",
        "Handicaps mentaux",
        "Illettrisme",
        "Langues étrangères (anglais)",
        "Langues étrangères (autres)",
        "Déficience visuelle",
    ),
    "frais_a_charge": ("Gratuit", "Gratuit sous condition", "Payant"),
    "dispositif_programmes_nationaux": (
        "Aidants Connect",
        "Bibliothèques numérique de référence",
        "Certification PIX",
        "Conseillers numériques",
        "Emmaüs Connect",
        "France Services",
        "Grande école du numérique",
        "La Croix Rouge",
        "Point d'accès numérique CAF",
        "Promeneurs du net",
        "Relais numérique (Emmaüs Connect)",
    ),
    "formations_labels": (
        "Formé à « Mon Espace Santé »",
        "Formé à « DUPLEX » (illettrisme)",
        "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
        "Collectif ressources et acteurs réemploi (Normandie)",
        "Étapes numériques(La Poste)",
        "Étapes numériques (La Poste)",
        "Fabriques de Territoire",
        "Les Éclaireurs du numérique (Drôme)",
        "Mes Papiers (Métropole de Lyon)",
        "ORDI 3.0",
        "SUD LABS (PACA)",
    ),
    "modalites_acces": (
        "Se présenter",
        "Téléphoner",
        "Contacter par mail",
        "Prendre un RDV en ligne",
        "Ce lieu n'accueille pas de public",
        "Envoyer un mail avec une fiche de prescription",
    ),
    "modalites_accompagnement": (
        "En autonomie",
        "Accompagnement individuel",
        "Dans un atelier collectif",
        "À distance",
    ),
}


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value.strip() for value in values if value.strip()))


#: How long a typology code may be: codes are short words (EPN, TIERS_LIEUX, RELAIS_LECTURE).
TYPOLOGY_MAX_LENGTH = 100


def validate_typologie(values: list[str]) -> list[str]:
    """The standard leaves ``typologie`` free: the national cartography uses codes beyond
    data·inclusion's list (CFP, EPI, FABRIQUE, MDH, RELAIS_LECTURE…). Every code is kept;
    :func:`unknown_typologies` names the ones to warn about."""
    values = _distinct(values)
    too_long = [value for value in values if len(value) > TYPOLOGY_MAX_LENGTH]
    if too_long:
        raise ValueError(
            f"a typology is a short code (at most {TYPOLOGY_MAX_LENGTH} characters) such as EPN,"
            f" BIB or TIERS_LIEUX; '{too_long[0][:40]}…' is not one"
        )
    return values


def unknown_typologies(values: Iterable[str]) -> list[str]:
    return [value for value in values if value not in TYPOLOGIES]


def typology_warnings(values: Iterable[str]) -> list[str]:
    """A sentence for the typologies that are not data·inclusion's: kept, but worth a look."""
    unknown = unknown_typologies(values)
    if not unknown:
        return []
    return [
        f"typologie: {', '.join(unknown)} is not a data·inclusion code; it was kept as given,"
        " check it is not a misspelling of EPN, BIB, CS, CCAS, MUNI, TIERS_LIEUX, ASSO…"
    ]


def vocabulary(field: str) -> Callable[[list[str]], list[str]]:
    allowed = VOCABULARIES[field]

    def check(values: list[str]) -> list[str]:
        values = _distinct(values)
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise ValueError(
                f"'{unknown[0]}' is not a value of the standard's {field} list;"
                f" allowed: {'; '.join(allowed)}"
            )
        return values

    return check


# OpenStreetMap opening_hours: a first pass that names the usual mistakes in a sentence, then
# the real parser (opening-hours-py) for the rest, e.g. the times of 'Mo-Fr 25:00-26:00'.
_OSM_WORDS = frozenset(
    [
        "Mo",
        "Tu",
        "We",
        "Th",
        "Fr",
        "Sa",
        "Su",
        "PH",
        "SH",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "off",
        "closed",
        "open",
        "unknown",
        "week",
        "easter",
        "sunrise",
        "sunset",
        "dawn",
        "dusk",
    ]
)
_OSM_TOKEN = re.compile(
    r"\s+|(?P<time>\d{1,2}:\d{2})|(?P<always>24/7)|(?P<word>[A-Za-z]+)|\d+|[,\-+\[\]/:]"
)
_OSM_COMMENT = re.compile(r'"[^"]*"')


def validate_horaires(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("opening hours are empty: leave the field out instead")
    without_comments = _OSM_COMMENT.sub(" ", text)
    if '"' in without_comments:
        raise ValueError('opening hours have an unclosed comment (a lone ")')
    for rule in re.split(r";|\|\|", without_comments):
        if not rule.strip():
            raise ValueError(f"opening hours '{text}' have an empty rule between separators")
        position = 0
        while position < len(rule):
            match = _OSM_TOKEN.match(rule, position)
            if match is None:
                raise ValueError(
                    f"opening hours: unexpected '{rule[position]}' in '{rule.strip()}'; use the"
                    " OpenStreetMap syntax, e.g. 'Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00'"
                )
            if match["word"] and match["word"] not in _OSM_WORDS:
                raise ValueError(
                    f"opening hours: '{match['word']}' is not an OpenStreetMap keyword; days are"
                    " Mo Tu We Th Fr Sa Su, public holidays PH, e.g. 'Mo-Fr 09:00-17:00'"
                )
            if match["time"]:
                hours, minutes = (int(part) for part in match["time"].split(":"))
                if hours > 48 or minutes > 59:
                    raise ValueError(f"opening hours: {match['time']} is not a time of day")
            position = match.end()
    try:
        OpeningHours(text)
    except ParserError as error:
        found = re.search(r"--> \d+:(\d+)", str(error))
        column = int(found[1]) if found else 1
        raise ValueError(
            f"opening hours '{text}' are not in the OpenStreetMap syntax from character {column}"
            f" ('{text[column - 1 : column + 11]}'): times go from 00:00 to 24:00 (a closing time"
            " up to 48:00 past midnight), e.g. 'Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00'"
        ) from error
    return text


Siren = Annotated[str, AfterValidator(validate_siren)]
Pivot = Annotated[str, AfterValidator(validate_pivot)]
CodePostal = Annotated[str, AfterValidator(validate_code_postal)]
CodeInsee = Annotated[str, AfterValidator(validate_code_insee)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


def _enum_items(values: Iterable[str]) -> dict[str, Any]:
    return {"items": {"type": "string", "enum": sorted(values)}}


def _listed(field: str) -> Any:
    return Field(default_factory=list, json_schema_extra=_enum_items(VOCABULARIES[field]))


def _checked(field: str) -> AfterValidator:
    return AfterValidator(vocabulary(field))


class CentreDraft(BaseModel):
    """A centre's facts as submitted: the standard's fields and names, plus ``epci_siren`` and
    ``workstations``. Multi-valued fields are lists here and ``|``-joined in CSV."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nom: Text
    pivot: Pivot
    adresse: Text
    code_postal: CodePostal
    commune: Text
    code_insee: CodeInsee
    epci_siren: Siren | None = Field(
        default=None,
        description="Taken from the EPCI whose communes include code_insee if left out.",
    )
    typologie: Annotated[list[str], AfterValidator(validate_typologie)] = Field(
        default_factory=list,
        description="Free in the standard: data·inclusion's codes or others (with a warning).",
        examples=[["EPN", "TIERS_LIEUX"]],
    )
    workstations: int = Field(default=0, ge=0, le=10_000, description="Public workstations.")
    horaires: Annotated[str, AfterValidator(validate_horaires)] | None = None
    services: Annotated[list[str], _checked("services")] = _listed("services")
    date_maj: date | None = None
    complement_adresse: Text | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    telephone: Annotated[str, AfterValidator(validate_telephone)] | None = None
    courriels: list[EmailStr] = Field(default_factory=list)
    site_web: list[Annotated[str, Field(pattern=r"^https?://\S+$")]] = Field(default_factory=list)
    presentation_resume: Annotated[str, Field(max_length=280)] | None = None
    presentation_detail: Annotated[str, Field(max_length=10_000)] | None = None
    source: Text | None = None
    itinerance: Annotated[list[str], _checked("itinerance")] = _listed("itinerance")
    structure_parente: Text | None = None
    publics_specifiquement_adresses: Annotated[
        list[str], _checked("publics_specifiquement_adresses")
    ] = _listed("publics_specifiquement_adresses")
    prise_en_charge_specifique: Annotated[list[str], _checked("prise_en_charge_specifique")] = (
        _listed("prise_en_charge_specifique")
    )
    frais_a_charge: Annotated[list[str], _checked("frais_a_charge")] = _listed("frais_a_charge")
    dispositif_programmes_nationaux: Annotated[
        list[str], _checked("dispositif_programmes_nationaux")
    ] = _listed("dispositif_programmes_nationaux")
    formations_labels: Annotated[list[str], _checked("formations_labels")] = _listed(
        "formations_labels"
    )
    autres_formations_labels: Text | None = None
    modalites_acces: Annotated[list[str], _checked("modalites_acces")] = _listed("modalites_acces")
    modalites_accompagnement: Annotated[list[str], _checked("modalites_accompagnement")] = _listed(
        "modalites_accompagnement"
    )
    fiche_acces_libre: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    prise_rdv: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None

    @field_validator("courriels")
    @classmethod
    def _lowercase_emails(cls, values: list[str]) -> list[str]:
        return _distinct(value.lower() for value in values)


#: The fields stored in their own columns; the standard's other fields are kept as details.
CORE_FIELDS = (
    "nom",
    "pivot",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "epci_siren",
    "typologie",
    "workstations",
    "horaires",
    "services",
    "date_maj",
)
DETAIL_FIELDS = tuple(name for name in CentreDraft.model_fields if name not in CORE_FIELDS)


class AnimatorDraft(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text
    email: EmailStr

    @field_validator("email")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()


class MembershipStatus(StrEnum):
    PENDING = "pending"
    MEMBER = "member"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class MembershipAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Transition:
    allowed_from: tuple[MembershipStatus, ...]
    to: MembershipStatus
    participle: str


TRANSITIONS: dict[MembershipAction, Transition] = {
    MembershipAction.APPROVE: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.MEMBER, "approved"
    ),
    MembershipAction.REJECT: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.REJECTED, "rejected"
    ),
    MembershipAction.SUSPEND: Transition(
        (MembershipStatus.MEMBER,), MembershipStatus.SUSPENDED, "suspended"
    ),
    MembershipAction.REINSTATE: Transition(
        (MembershipStatus.SUSPENDED,), MembershipStatus.MEMBER, "reinstated"
    ),
    MembershipAction.WITHDRAW: Transition(
        (MembershipStatus.MEMBER, MembershipStatus.SUSPENDED),
        MembershipStatus.WITHDRAWN,
        "withdrawn",
    ),
    # An anonymous application that no address confirmed in time (the registry's own act).
    MembershipAction.EXPIRE: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.EXPIRED, "expired"
    ),
}

#: States in which a centre holds its SIRET/RNA: another application with it is a duplicate.
HOLDS_PIVOT = frozenset(
    {MembershipStatus.PENDING, MembershipStatus.MEMBER, MembershipStatus.SUSPENDED}
)
#: Closed records: their facts and animators no longer change.
CLOSED = frozenset(
    {MembershipStatus.REJECTED, MembershipStatus.WITHDRAWN, MembershipStatus.EXPIRED}
)
#: States in which a centre belongs to the network and must keep an animator to hear from it.
IN_NETWORK = frozenset({MembershipStatus.MEMBER, MembershipStatus.SUSPENDED})


class IllegalTransition(RuleViolation):
    def __init__(self, current: MembershipStatus, action: MembershipAction) -> None:
        transition = TRANSITIONS[action]
        allowed = " or ".join(state.value for state in transition.allowed_from)
        super().__init__(
            f"centre is {current.value}; it can be {transition.participle} only when {allowed}",
            current_status=current.value,
            action=action.value,
        )
        self.current = current
        self.action = action


def next_status(current: MembershipStatus, action: MembershipAction) -> MembershipStatus:
    transition = TRANSITIONS[action]
    if current not in transition.allowed_from:
        raise IllegalTransition(current, action)
    return transition.to


def ensure_approvable(animator_count: int) -> None:
    if animator_count == 0:
        raise RuleViolation(
            "centre has no animator: add one (POST /centres/{id}/animators) before approving,"
            " so that someone hears from the network"
        )


def ensure_open(status: MembershipStatus, what: str) -> None:
    if status in CLOSED:
        raise RuleViolation(
            f"centre is {status.value}; its {what} can no longer change: a new application"
            " starts a new record",
            current_status=status.value,
        )


def ensure_animator_removable(status: MembershipStatus, animator_count: int) -> None:
    if status in IN_NETWORK and animator_count <= 1:
        raise RuleViolation(
            f"centre is {status.value} and this is its last animator: add another one"
            " before removing this one",
            current_status=status.value,
        )


class EpciMismatch(ValueError):
    """A centre whose EPCI cannot be told, or contradicts the EPCIs' commune lists (HTTP 422)."""


def resolve_epci(code_insee: str, declared: str | None, listed: str | None) -> str:
    """The centre's EPCI: the declared one, checked against the EPCI whose communes include
    ``code_insee`` (``listed``), or that one when none is declared."""
    if declared is None:
        if listed is None:
            raise EpciMismatch(
                f"no registered EPCI lists commune {code_insee}: give epci_siren, or add the"
                " commune to its EPCI's communes"
            )
        return listed
    if listed is not None and listed != declared:
        raise EpciMismatch(
            f"commune {code_insee} belongs to EPCI {listed}, not {declared}: fix epci_siren"
            " or code_insee"
        )
    return declared


# No open relay: whose applications hold their mail until the addresses named confirm.


class Submitter(Protocol):
    """Who submits an application: the shape of ``crnt_shared.auth``'s ``Actor``."""

    @property
    def kind(self) -> str: ...

    @property
    def roles(self) -> Collection[str]: ...

    @property
    def centres(self) -> Collection[Any]: ...


@dataclass(frozen=True)
class ServiceAccount:
    """A static token's account (the agency's, for the CLI and automation)."""

    name: str
    roles: tuple[str, ...]
    kind: str = "service"
    centres: tuple[Any, ...] = ()


AGENCY_ACCOUNT = ServiceAccount("agency", ("agency",))


def needs_confirmation(submitter: Submitter | None) -> bool:
    """The one place that says whose applications must wait for their addresses to confirm:
    everyone's (``None``: anonymous) but the agency's (its staff or its service account) and
    an animator's of a member centre (a signed-in person whose token lists the member centres
    they animate)."""
    if submitter is None:
        return True
    roles = set(submitter.roles)
    if "agency" in roles:
        return False
    return not (submitter.kind == "person" and "animator" in roles and len(submitter.centres) > 0)


class Confirmation(StrEnum):
    """Where an application stands with its addresses."""

    NOT_REQUIRED = "not_required"  # entered by someone trusted: its addresses are confirmed
    AWAITING = "awaiting"  # anonymous, and no address has confirmed yet
    CONFIRMED = "confirmed"  # at least one address confirmed: someone is behind it


def expires_at(submitted_at: datetime, days: float) -> datetime:
    """When an anonymous application that no address confirms expires."""
    return submitted_at + timedelta(days=days)


def accepts_confirmation(application_status: str) -> bool:
    """An address may confirm until its application expired (a decision taken meanwhile does
    not stop it: the agency may approve before the animator clicks)."""
    return application_status != "expired"


def after_confirmation(current: Confirmation) -> tuple[Confirmation, bool]:
    """The application's confirmation once one more address confirmed, and whether that
    address is its first (the agency hears about the application then)."""
    if current is Confirmation.AWAITING:
        return Confirmation.CONFIRMED, True
    return current, False


def expiry_reason(days: float) -> str:
    """The history's and the event's reason, in the users' language."""
    shown = f"{days:g}".replace(".", ",")
    unit = "jour" if days <= 1 else "jours"
    return f"Aucune adresse de la demande n'a été confirmée dans le délai de {shown} {unit}."
