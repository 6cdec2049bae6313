"""Identifiers of places and territories: SIRET/RNA (the standard's ``pivot``), SIREN, postal
and INSEE codes, telephone numbers."""

import re
from collections.abc import Callable

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before

# The stub of opening-hours-py does not declare ParserError.
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


def _matching(pattern: re.Pattern[str], refusal: str) -> Callable[[str], str]:
    """A validator that keeps a value ``pattern`` matches and refuses any other, saying why
    (``refusal``, in which ``{value}`` names the value)."""

    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(refusal.format(value=value))
        return value

    return validate


validate_code_postal = _matching(_CODE_POSTAL, "a postal code has 5 digits; '{value}' does not")
validate_code_insee = _matching(
    _CODE_INSEE,
    "'{value}' is not an INSEE commune code (5 characters such as 62765 or 2A004):"
    " find it on https://www.insee.fr/fr/recherche/recherche-geographique",
)
validate_telephone = _matching(
    _TELEPHONE,
    "'{value}' is not in the international format the standard asks for"
    " (e.g. +33321129494: country code, no leading 0, no spaces)",
)
