"""The national standard's closed lists (typologies, services, publics, …) and their checks."""

from collections.abc import Callable, Iterable

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before
from crnt_shared.standard import SERVICES

# The stub of opening-hours-py does not declare ParserError.

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


def distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value.strip() for value in values if value.strip()))


#: How long a typology code may be: codes are short words (EPN, TIERS_LIEUX, RELAIS_LECTURE).
TYPOLOGY_MAX_LENGTH = 100


def validate_typologie(values: list[str]) -> list[str]:
    """The standard leaves ``typologie`` free: the national cartography uses codes beyond
    data·inclusion's list (CFP, EPI, FABRIQUE, MDH, RELAIS_LECTURE…). Every code is kept;
    :func:`unknown_typologies` names the ones to warn about."""
    values = distinct(values)
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
        values = distinct(values)
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise ValueError(
                f"'{unknown[0]}' is not a value of the standard's {field} list;"
                f" allowed: {'; '.join(allowed)}"
            )
        return values

    return check
