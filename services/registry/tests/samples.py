"""What the registry's tests submit: the EPCIs of the Pays de Saint-Omer, a centre of Lumbres
(in the CCPL) as the national standard names its facts."""

from typing import Any

import httpx

API = "/api/v1"
CAPSO_SIREN = "200069037"
CCPL_SIREN = "246201016"
CAPSO: dict[str, Any] = {
    "siren": CAPSO_SIREN,
    "name": "CA du Pays de Saint-Omer",
    "population": 104937,
}
CCPL: dict[str, Any] = {"siren": CCPL_SIREN, "name": "CC du Pays de Lumbres", "population": 24187}


async def register_epcis(client: httpx.AsyncClient, agency: dict[str, str]) -> None:
    for epci, communes in ((CAPSO, ["62765", "62525"]), (CCPL, ["62534"])):
        response = await client.post(
            f"{API}/epcis", json={**epci, "communes": communes}, headers=agency
        )
        assert response.status_code == 201, response.text


def lumbres(**changes: Any) -> dict[str, Any]:
    """A valid centre draft of Lumbres (its EPCI found from its commune), with ``changes``."""
    return {
        "nom": "Cyber-centre de Lumbres",
        "pivot": "24620101600077",
        "adresse": "1 Chemin du Pressart",
        "code_postal": "62380",
        "commune": "Lumbres",
        "code_insee": "62534",
        "typologie": ["EPN"],
        "workstations": 8,
        **changes,
    }
