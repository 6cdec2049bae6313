"""French formats for people: amounts (``1 234,56 €``, :mod:`crnt_shared.money`), percentages,
counts and the article before a place's name.

Typography of the Imprimerie nationale, as CLDR ``fr`` does: a narrow no-break space (U+202F)
before the percent sign, so that a figure never breaks from its unit.
"""

from crnt_shared.money import MINUS, euros, group_thousands, signed_euros

__all__ = ["count_fr", "euros", "of_place", "percent", "signed_euros"]

BEFORE_PERCENT = "\u202f"


def percent(value: int) -> str:
    """``40`` → ``40 %`` (a narrow no-break space before the sign)."""
    return f"{value}{BEFORE_PERCENT}%"


def number(value: int) -> str:
    """``20000`` → ``20 000`` (a narrow no-break space between thousands)."""
    return f"{MINUS if value < 0 else ''}{group_thousands(str(abs(value)))}"


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
