"""What the registry's tests submit: a centre of Lumbres (in the CCPL), as the national
standard names its facts."""

from typing import Any


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
