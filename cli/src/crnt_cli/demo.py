"""The demo territory: the Pays de Saint-Omer, seeded through the services' own APIs.

Real public facts (the EPCIs, the places in the national standard); fictitious animators with
example.org addresses. Seeding twice does not duplicate anything: each step looks first.
"""

import csv
import io
import time
import unicodedata
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from crnt_shared import samples
from rich.console import Console
from rich.progress import Progress, TaskID

from crnt_cli.client import CliError, Service

YEAR = 2026
DATA = files("crnt_cli") / "data"
EPCIS = {
    "200069037": ("Communauté d'agglomération du Pays de Saint-Omer (CAPSO)", 104_937),
    "246201016": ("Communauté de communes du Pays de Lumbres (CCPL)", 24_187),
}
ANIMATORS = [
    "Camille Lefebvre",
    "Julien Dubois",
    "Sarah Lemaire",
    "Thomas Caron",
    "Léa Vasseur",
    "Nicolas Delattre",
    "Manon Deschamps",
    "Hugo Fournier",
    "Chloé Bernard",
    "Antoine Roussel",
]
#: The 2026 plan: the programme's actions (27,500.00) and the centres' dotations (30,000.00);
#: the Region gives 15,000.00 and funds the dotations, FEDER half of the actions up to
#: 10,000.00; the EPCIs owe the reste à charge, 2,500.00, by population (CAPSO 2,031.71,
#: CCPL 468.29).
BUDGET = samples.worked_budget()
ACTIONS = [
    ("communication", "Site et réseaux sociaux communs du réseau", "4500.00"),
    ("ateliers", "Ateliers « Premiers pas sur le smartphone »", "6000.00"),
    ("evenements", "Fête de l'internet citoyen", "5500.00"),
    ("formation", "Formation des animateurs à l'accompagnement aux démarches en ligne", "3500.00"),
    ("materiel_partage", "Valise de tablettes et vidéoprojecteur partagés", "8000.00"),
]


def _email(name: str, place: str) -> str:
    def slug(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "".join(c if c.isalnum() else "." for c in plain.lower()).strip(".")

    return f"{slug(name)}@{slug(place).replace('..', '.')[:40]}.example.org"


def _exists(call: Any) -> bool:
    """Run ``call``; False when it answers 404."""
    try:
        call()
    except CliError as error:
        if error.status == 404:
            return False
        raise
    return True


@dataclass(frozen=True)
class Steps:
    """The seed's progress: one step per EPCI, the budget, the import, each approval and the
    programme (the approvals are counted once the import has said how many there are)."""

    progress: Progress
    task: TaskID

    def expect(self, count: int) -> None:
        self.progress.update(self.task, total=count)

    def more(self, count: int) -> None:
        [task] = [t for t in self.progress.tasks if t.id == self.task]
        self.expect(int(task.total or 0) + count)

    def done(self, what: str) -> None:
        """One more step done; ``what`` says which."""
        self.progress.update(self.task, advance=1, description=what)


def seed(
    console: Console,
    registry: Service,
    budget: Service,
    programme: Service,
    copil_token: str | None,
    steps: Steps,
) -> None:
    steps.expect(len(EPCIS) + 3)
    communes: dict[str, list[str]] = {siren: [] for siren in EPCIS}
    for row in csv.DictReader(io.StringIO((DATA / "communes-epci.csv").read_text("utf-8"))):
        communes.setdefault(row["epci_siren"], []).append(row["code_insee"])
    for siren, (name, population) in EPCIS.items():
        if not _exists(lambda s=siren: registry.json("GET", f"/epcis/{s}")):
            registry.json(
                "POST",
                "/epcis",
                json={
                    "siren": siren,
                    "name": name,
                    "population": population,
                    "communes": communes[siren],
                },
            )
            console.print(f"EPCI {name}: registered")
        steps.done(f"EPCI {siren}")

    if not _exists(lambda: budget.json("GET", f"/budgets/{YEAR}")):
        budget.json("PUT", f"/budgets/{YEAR}", json=BUDGET)
        console.print(f"budget {YEAR}: configured")
    steps.done(f"budget {YEAR}")

    if registry.json("GET", "/centres", params={"limit": 1})["total"] == 0:
        csv_bytes = (DATA / "pays-de-saint-omer-lieux.csv").read_bytes()
        result = registry.json(
            "POST", "/centres/import", content=csv_bytes, headers={"Content-Type": "text/csv"}
        )
        console.print(f"places of the territory imported: {result['imported']} applications")
    steps.done("places of the territory")
    pending = registry.json("GET", "/applications", params={"status": "pending", "limit": 200})
    steps.more(len(pending["items"]))
    for index, application in enumerate(pending["items"]):
        centre = application["centre"]
        animators = registry.json("GET", f"/centres/{centre['id']}/animators")
        if not animators["items"]:
            name = ANIMATORS[index % len(ANIMATORS)]
            registry.json(
                "POST",
                f"/centres/{centre['id']}/animators",
                json={"name": name, "email": _email(name, centre["nom"])},
            )
        registry.json("POST", f"/applications/{application['id']}/approve")
        console.print(f"member: {centre['nom']}")
        steps.done(f"member: {centre['nom']}")

    _seed_programme(console, registry, programme, copil_token)
    steps.done(f"programme {YEAR}")


def _seed_programme(
    console: Console, registry: Service, programme: Service, copil_token: str | None
) -> None:
    existing = None
    if _exists(lambda: programme.json("GET", f"/programmes/{YEAR}")):
        existing = programme.json("GET", f"/programmes/{YEAR}")
    if existing is not None and existing["actions"]:
        return
    members = registry.json("GET", "/centres", params={"status": "member", "limit": 200})["items"]
    if not members:
        raise CliError("no member centre yet: the programme's actions need member centres")
    known = _wait_for_members(programme, len(members))
    for index, (axis, title, cost) in enumerate(ACTIONS):
        lead = members[index % len(members)]["id"]
        others = [m["id"] for m in members if m["id"] != lead and m["id"] in known][:3]
        programme.json(
            "POST",
            f"/programmes/{YEAR}/actions",
            json={
                "axis": axis,
                "title": title,
                "lead_centre_id": lead,
                "participant_ids": others,
                "starts_on": f"{YEAR}-02-01",
                "ends_on": f"{YEAR}-11-30",
                "estimated_cost": cost,
            },
        )
    programme.json("POST", f"/programmes/{YEAR}/submit")
    console.print(f"programme {YEAR}: {len(ACTIONS)} actions, submitted")
    if copil_token:
        copil = Service(programme.name, programme.url, copil_token)
        copil.json(
            "POST",
            f"/programmes/{YEAR}/validate",
            json={
                "deciding_body": "Comité de pilotage du réseau des cybercentres",
            },
        )
        console.print(f"programme {YEAR}: validated by the steering committee")


def _wait_for_members(programme: Service, count: int) -> set[str]:
    """The programme learns the members from the registry's events: wait for it to know them."""
    deadline = time.monotonic() + 60
    while True:
        centres = programme.json("GET", "/centres", params={"status": "member"})
        items = centres["items"] if isinstance(centres, dict) else centres
        known = {str(c.get("centre_id") or c.get("id")) for c in items}
        if len(known) >= count or time.monotonic() > deadline:
            return known
        time.sleep(0.5)
