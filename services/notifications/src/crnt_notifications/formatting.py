"""French formats for people: amounts (``1 234,56 €``) and dates (``24 novembre 2026``).

Typography of the Imprimerie nationale, as CLDR ``fr`` does: a narrow no-break space (U+202F)
between thousands, a no-break space (U+00A0) before the euro sign, and a real minus sign
(U+2212) for decreases, so that an amount never breaks across two lines.
"""

from decimal import Decimal

THOUSANDS = "\u202f"
BEFORE_UNIT = "\u00a0"
BEFORE_PERCENT = "\u202f"
MINUS = "\u2212"


def cents_from_decimal(amount: Decimal | str) -> int:
    """Integer cents of a decimal amount ("1234.56"); refuses fractions of a cent."""
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def _group(digits: str) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return THOUSANDS.join(groups)


def euros(cents: int) -> str:
    """``123456`` → ``1 234,56 €`` (a minus sign before a negative amount)."""
    sign = MINUS if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{_group(str(whole))},{fraction:02d}{BEFORE_UNIT}€"


def signed_euros(cents: int) -> str:
    """A change: ``+1 234,56 €``, ``−12,00 €`` or ``0,00 €``."""
    return f"+{euros(cents)}" if cents > 0 else euros(cents)


def percent(value: int) -> str:
    """``40`` → ``40 %`` (a narrow no-break space before the sign)."""
    return f"{value}{BEFORE_PERCENT}%"


def number(value: int) -> str:
    """``20000`` → ``20 000`` (a narrow no-break space between thousands)."""
    return f"{MINUS if value < 0 else ''}{_group(str(abs(value)))}"


def count_fr(count: int, singular: str, plural: str, none: str) -> str:
    """``count_fr(3, "action", "actions", "aucune action")`` → ``3 actions``;
    ``count_fr(1500, "lieu", "lieux", "aucun lieu")`` → ``1 500 lieux``."""
    if count == 0:
        return none
    return f"{number(count)} {singular if count == 1 else plural}"


#: The first word of a place's name and its gender: "du Centre social…", "de la Médiathèque…".
_MASCULINE = frozenset(
    {"centre", "cybercentre", "point", "pôle", "relais", "club", "foyer", "tiers-lieu", "lieu"}
    | {"bureau", "local", "service", "secours", "cyber-centre", "fablab", "garage", "musée"}
)
_FEMININE = frozenset(
    {"médiathèque", "maison", "bibliothèque", "mairie", "cyberbase", "cyber-base", "mission"}
    | {"association", "ludothèque", "salle", "structure", "régie", "communauté", "commune"}
    | {"fédération", "ligue", "résidence", "micro-folie", "cité", "ressourcerie"}
)
_ELIDED = frozenset(
    {"espace", "atelier", "epn", "office", "hôtel", "accueil", "antenne", "agence", "école"}
    | {"établissement", "ehpad", "institut", "observatoire", "union", "amicale", "université"}
)
_APOSTROPHES = ("'", "’")


def of_place(name: str) -> str:
    """ "de" before a place's name, with its article: ``du Centre social X``, ``de la
    Médiathèque Y``, ``de l’Espace Z``, ``des Ateliers…``; ``de « France services… »`` when the
    name's first word does not say (a neutral wording rather than a wrong article)."""
    words = name.split(maxsplit=1)
    first = words[0].casefold() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if first == "le" and rest:
        return f"du {rest}"
    if first == "les" and rest:
        return f"des {rest}"
    if first == "la" and rest:
        return f"de la {rest}"
    if first[:2] in ("l'", "l’") and len(first) > 2:
        return f"de l’{name[2:]}"
    if first in _MASCULINE:
        return f"du {name}"
    if first in _FEMININE:
        return f"de la {name}"
    if first in _ELIDED:
        return f"de l’{name}"
    return f"de « {name} »"
