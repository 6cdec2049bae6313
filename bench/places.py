"""Places in the national standard's shape (``standard-mediation-num`` v1.0.2, the columns of
``crnt_registry.csv_io``), generated for the national import bench: the mix of the national
cartography's rows (France services, libraries, social centres, digital public spaces…), about
half of them without a SIRET (the standard's placeholder), in communes that EPCIs list.

Deterministic for a seed, so that two runs import the same file."""

import csv
import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from crnt_registry.csv_io import COLUMNS
from crnt_shared.standard import SERVICES

from bench.e2e import siret

PLACEHOLDER = "00000000000000"
#: (first words of the name, typologie, dispositif_programmes_nationaux), as the cartography has.
KINDS = (
    ("France services de", "MSAP", "France Services"),
    ("Médiathèque de", "BIB", "Conseillers numériques"),
    ("Centre social de", "CS", "Conseillers numériques"),
    ("Espace public numérique de", "EPN", ""),
    ("Mairie de", "MUNI", "Aidants Connect"),
    ("Tiers-lieu de", "TIERS_LIEUX", ""),
    ("Association numérique de", "ASSO", "Emmaüs Connect"),
    ("CCAS de", "CCAS", "Aidants Connect"),
)
HOURS = (
    "Mo-Fr 08:30-12:00,13:30-17:00",
    "Mo-We 15:00-18:00; Th-Fr 09:00-12:00,15:00-18:00; Sa 09:00-12:00",
    "Tu,Th 14:00-18:00; We 09:00-12:00,14:00-18:00; Sa 10:00-12:30",
    "",
)
STREETS = ("rue de la République", "place de la Mairie", "avenue Jean Jaurès", "rue Victor Hugo")
ACCESS = ("Se présenter|Téléphoner", "Prendre un RDV en ligne", "Se présenter|Contacter par mail")
SUPPORT = ("Accompagnement individuel", "Dans un atelier collectif|En autonomie")


@dataclass(frozen=True)
class Commune:
    code_insee: str
    name: str
    code_postal: str


def communes(count: int) -> list[Commune]:
    """``count`` distinct communes of metropolitan France (departments 01 to 95, not 20)."""
    departments = [d for d in range(1, 96) if d != 20]
    found = []
    for n in range(count):
        department = departments[n % len(departments)]
        number = n // len(departments) + 1
        found.append(
            Commune(
                f"{department:02d}{number:03d}",
                f"Commune {department:02d}-{number:03d}",
                f"{department:02d}{number * 10 % 1000:03d}",
            )
        )
    return found


def rows(places: int, where: Sequence[Commune], *, seed: int = 2026) -> Iterator[list[str]]:
    """One row per place, in the standard's column order."""
    rng = random.Random(seed)
    for n in range(places):
        commune = where[rng.randrange(len(where))]
        prefix, typologie, programme = KINDS[n % len(KINDS)]
        services = rng.sample(SERVICES, rng.randint(1, 4))
        values = {
            "id": f"bench-{n:06d}",
            "pivot": siret(10**6 + n * 7919) if n % 2 else PLACEHOLDER,
            "nom": f"{prefix} {commune.name} n°{n + 1}",
            "commune": commune.name,
            "code_postal": commune.code_postal,
            "code_insee": commune.code_insee,
            "adresse": f"{1 + n % 120} {STREETS[n % len(STREETS)]}",
            "latitude": f"{42.5 + rng.random() * 8.5:.6f}",
            "longitude": f"{-4.5 + rng.random() * 12.5:.6f}",
            "typologie": typologie,
            "telephone": f"+333{rng.randrange(10**8):08d}" if n % 3 else "",
            "courriels": f"contact.{n}@lieux.example" if n % 4 == 0 else "",
            "horaires": HOURS[n % len(HOURS)],
            "presentation_resume": "Accompagnement aux usages du numérique pour tous les publics.",
            "source": "bench (standard-mediation-num v1.0.2)",
            "itinerance": "Fixe",
            "date_maj": "2026-01-15",
            "services": "|".join(services),
            "frais_a_charge": "Gratuit",
            "dispositif_programmes_nationaux": programme,
            "modalites_acces": ACCESS[n % len(ACCESS)],
            "modalites_accompagnement": SUPPORT[n % len(SUPPORT)],
        }
        yield [values.get(column, "") for column in COLUMNS]


def files(places: int, where: Sequence[Commune], *, max_bytes: int) -> list[bytes]:
    """The places as CSV files of at most ``max_bytes`` each, every one with the header (an
    import is all or nothing per file, and a request body has a ceiling)."""
    header = _line(list(COLUMNS))
    chunks: list[bytes] = []
    current = [header]
    size = len(header)
    for row in rows(places, where):
        line = _line(row)
        if size + len(line) > max_bytes and len(current) > 1:
            chunks.append(b"".join(current))
            current, size = [header], len(header)
        current.append(line)
        size += len(line)
    if len(current) > 1:
        chunks.append(b"".join(current))
    return chunks


def _line(values: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode()
