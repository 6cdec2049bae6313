"""Sample bodies of the services' APIs, written once: the demo, the end-to-end tests, the fault
suite, the benches and the OpenAPI examples apply for places and configure a year's budget with
these.

The key of the seeds: half of the envelope split equally among the member centres and half by
workstations, the reste à charge split among the EPCIs by population.
"""

from collections.abc import Iterable
from typing import Any

from crnt_shared.money import amount_from_cents

REGION = "Région Hauts-de-France (CRNT)"
CENTRE_KEY = {"fixed_ratio": "0.5", "weight": "workstations"}
#: The programme's five axes, a rate's eligible base when it funds the actions only.
AXES = ["communication", "ateliers", "evenements", "formation", "materiel_partage"]


def budget(envelope_euros: int = 30_000) -> dict[str, Any]:
    """``PUT /budgets/{year}``: the Region gives half of the envelope, FEDER half of the
    expenses up to a third of it."""
    return {
        "envelope": _euros(envelope_euros),
        "centre_key": dict(CENTRE_KEY),
        "epci_key": "population",
        "funders": [
            {"name": REGION, "amount": _euros(envelope_euros // 2)},
            {"name": "FEDER", "rate": "0.5", "ceiling": _euros(envelope_euros // 3)},
        ],
    }


def worked_budget() -> dict[str, Any]:
    """The demo's 2026 plan (README, « exemple chiffré »): FEDER funds half of the
    programme's actions up to 10,000.00 and the Region the centres' dotations too."""
    body = budget()
    region, feder = body["funders"]
    return {
        **body,
        "funders": [
            region,
            {**feder, "base": {"axes": list(AXES)}},
            {
                "name": "Région Hauts-de-France (dotations des lieux)",
                "rate": "1",
                "base": {"lines": ["dotations"]},
            },
        ],
        "network_lines": [],
    }


def _euros(amount: int) -> str:
    return amount_from_cents(amount * 100)


#: Communes of the seeds' territory: (name, code postal, code INSEE).
SAINT_OMER = ("Saint-Omer", "62500", "62765")
ARQUES = ("Arques", "62510", "62040")
LUMBRES = ("Lumbres", "62380", "62534")
#: The standard's SIRET placeholder, for a place without one: never a duplicate.
NO_SIRET = "00000000000000"


def application(
    nom: str,
    animators: Iterable[tuple[str, str]],
    *,
    commune: tuple[str, str, str] = SAINT_OMER,
    adresse: str = "1 place de la Mairie",
    pivot: str = NO_SIRET,
    **centre: Any,
) -> dict[str, Any]:
    """``POST /applications``: a digital public space (EPN) of ``commune`` and its animators,
    (name, address) each; ``centre`` adds the standard's other fields (``workstations``…)."""
    name, code_postal, code_insee = commune
    return {
        "centre": {
            "nom": nom,
            "pivot": pivot,
            "adresse": adresse,
            "code_postal": code_postal,
            "commune": name,
            "code_insee": code_insee,
            "typologie": ["EPN"],
            **centre,
        },
        "animators": [{"name": person, "email": email} for person, email in animators],
    }
