"""The whole journey, the way the agency and the animators live it: only HTTP in, only the
APIs and the mailbox out. Four services as separate processes on the real Kafka, PostgreSQL
and mail catcher."""

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from crnt_shared import samples
from crnt_shared.testing import wait_until
from stdnum import luhn

from tests.e2e.system import System

pytestmark = pytest.mark.integration

YEAR = 2026
CAPSO, CCPL = "200069037", "246201016"
BUDGET = samples.budget()
PLACES = {
    "A": ("Cybercentre de Saint-Omer", "62765", "62500", "Saint-Omer", CAPSO, 8),
    "B": ("Espace numérique de Lumbres", "62534", "62380", "Lumbres", CCPL, 4),
    "C": ("Médiathèque d'Arques", "62040", "62510", "Arques", CAPSO, 0),
}


def _siret(seed: int) -> str:
    """A SIRET whose SIREN (its first nine digits) and whole number pass their Luhn checks."""
    siren = f"{seed % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    nic = f"{seed // 10**8 % 10**4:04d}"
    return siren + nic + luhn.calc_check_digit(siren + nic)


class Journey:
    def __init__(self, system: System, client: httpx.AsyncClient) -> None:
        self.system = system
        self.client = client
        self.run = uuid.uuid4().hex[:6]
        self.centres: dict[str, str] = {}
        self.applications: dict[str, str] = {}

    def animator(self, key: str) -> str:
        return f"animateur.{key.lower()}.{self.run}@example.org"

    async def call(
        self, method: str, service: str, path: str, expect: int = 200, **kwargs: Any
    ) -> Any:
        headers = kwargs.pop("headers", self.system.agency)
        response = await self.client.request(
            method, self.system.url(service, path), headers=headers, **kwargs
        )
        assert response.status_code == expect, response.text
        return response.json()

    async def apply(self, key: str) -> None:
        nom, insee, postal, commune, epci, workstations = PLACES[key]
        body = samples.application(
            f"{nom} {self.run}",
            [(f"Animateur {key}", self.animator(key))],
            commune=(commune, postal, insee),
            pivot=_siret(int(uuid.uuid4().int % 10**12)),
            epci_siren=epci,
            workstations=workstations,
        )
        created = await self.call("POST", "registry", "/applications", 201, json=body, headers={})
        self.applications[key] = created["id"]
        self.centres[key] = created["centre_id"]
        await self.confirm(key)

    async def confirm(self, key: str) -> None:
        """An anonymous application: its animator follows the link of the one mail it got,
        and the registry hears of it before the agency decides."""
        request = await mail_with_subject(
            self, key, f"Confirmez votre adresse pour la demande d'adhésion de {self.name(key)}"
        )
        path = confirmation_path(request["Text"])
        confirmed = await self.client.post(self.system.url("notifications", path))
        assert confirmed.status_code == 200, confirmed.text

        async def registry_knows() -> bool:
            application = await self.call(
                "GET", "registry", f"/applications/{self.applications[key]}"
            )
            return bool(application["confirmation"] == "confirmed")

        await wait_until(registry_knows, timeout=60, message=f"{key}'s address confirmed")

    def name(self, key: str) -> str:
        return f"{PLACES[key][0]} {self.run}"

    async def approve(self, key: str) -> None:
        approved = await self.call(
            "POST", "registry", f"/applications/{self.applications[key]}/approve"
        )
        assert approved["status"] == "member"

    async def shares(self) -> dict[str, Decimal]:
        data = await self.call("GET", "budget", f"/budgets/{YEAR}/shares", headers={})
        by_id = {c["centre_id"]: Decimal(c["amount"]) for c in data["centres"] if c["member"]}
        return {key: by_id[centre] for key, centre in self.centres.items() if centre in by_id}

    async def wait_for_shares(self, expected: dict[str, str]) -> dict[str, Decimal]:
        want = {key: Decimal(amount) for key, amount in expected.items()}

        async def reached() -> dict[str, Decimal] | None:
            shares = await self.shares()
            return shares if shares == want else None

        return await wait_until(reached, timeout=60, message=f"shares {expected}")  # type: ignore[no-any-return]


@pytest.fixture
async def journey(system: System) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        yield Journey(system, client)


NBSP, NNBSP = "\u00a0", "\u202f"


def euros(amount: str) -> str:
    """'17500.00' → '17 500,00 €' as the mails write it."""
    whole, _, cents = amount.partition(".")
    groups = f"{int(whole):,}".replace(",", NNBSP)
    return f"{groups},{cents}{NBSP}€"


async def mail_with_subject(journey: Journey, key: str, subject: str) -> dict[str, Any]:
    address = journey.animator(key)

    async def arrived() -> dict[str, Any] | None:
        found = [m for m in await journey.system.mails_to(address) if m["Subject"] == subject]
        assert len(found) <= 1, f"{subject!r} sent {len(found)} times to {address}"
        return found[0] if found else None

    return await wait_until(arrived, timeout=90, message=f"{subject!r} to {address}")  # type: ignore[no-any-return]


def confirmation_path(text: str) -> str:
    """The path of the confirmation link in a mail (its host is the public URL's)."""
    match = re.search(r"/api/v1(/confirmations/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


def subjects(found: list[dict[str, Any]]) -> list[str]:
    return [mail["Subject"] for mail in found]


@pytest.mark.parametrize("kill_budget", [False, True], ids=["calm", "budget-killed"])
async def test_apply_approve_share_withdraw(journey: Journey, kill_budget: bool) -> None:
    for siren, epci_name, population, communes in (
        (CAPSO, "CA du Pays de Saint-Omer", 104_937, ["62765", "62040"]),
        (CCPL, "CC du Pays de Lumbres", 24_187, ["62534"]),
    ):
        await journey.call(
            "POST",
            "registry",
            "/epcis",
            201,
            json={
                "siren": siren,
                "name": epci_name,
                "population": population,
                "communes": communes,
            },
        )
    await journey.call("PUT", "budget", f"/budgets/{YEAR}", json=BUDGET)
    name = {key: f"{PLACES[key][0]} {journey.run}" for key in PLACES}

    await journey.apply("A")
    await journey.approve("A")
    await journey.wait_for_shares({"A": "30000.00"})
    welcome = await mail_with_subject(
        journey, "A", f"Bienvenue dans le réseau\u202f: {name['A']} est désormais membre"
    )
    assert "Saint-Omer" in welcome["Text"]

    await journey.apply("B")
    await journey.apply("C")
    await journey.approve("B")
    if kill_budget:
        journey.system.processes.kill("budget")
    await journey.approve("C")
    if kill_budget:
        journey.system.restart("budget")
    # Half split equally (5,000 each), half by workstations 8:4:0 (10,000 / 5,000 / 0).
    shares = await journey.wait_for_shares({"A": "15000.00", "B": "10000.00", "C": "5000.00"})
    assert sum(shares.values()) == Decimal("30000.00")

    await journey.call(
        "POST",
        "registry",
        f"/centres/{journey.centres['C']}/withdraw",
        json={"reason": "Fermeture du lieu"},
    )
    # Half split equally (7,500 each), half by workstations 8:4 (10,000 / 5,000).
    await journey.wait_for_shares({"A": "17500.00", "B": "12500.00"})
    budget = await journey.call("GET", "budget", f"/budgets/{YEAR}", headers={})
    # The reste à charge: the dotations 30,000.00 − the Region's 15,000.00 − FEDER's 50 % of
    # them capped at 10,000.00 (no programme yet).
    assert sum(Decimal(e["amount"]) for e in budget["epcis"]) == Decimal("5000.00")
    versions = await journey.call("GET", "budget", f"/budgets/{YEAR}/versions", headers={})
    assert versions["items"][-1]["member_count"] == 2

    withdrawn = await mail_with_subject(journey, "C", f"Retrait du réseau\u202f: {name['C']}")
    assert "Fermeture du lieu" in withdrawn["Text"]

    async def last_share_of_a() -> str | None:
        found = await journey.system.mails_to(journey.animator("A"))
        shares = [s for s in subjects(found) if s.startswith(f"Dotation {YEAR}")]
        return shares[-1] if shares else None

    expected = f"Dotation {YEAR} du {name['A']}\u202f: {euros('17500.00')}"

    async def settled() -> bool:
        return await last_share_of_a() == expected

    await wait_until(settled, timeout=90, message=expected)
    everything = subjects(await journey.system.mails_to(journey.animator("A")))
    announced = [s for s in everything if "nouveau" in s]
    assert announced, everything
    assert len(everything) == len(set(everything)) or _only_shares_repeat(everything), everything
    assert len([s for s in everything if s.startswith("Bienvenue")]) == 1

    # The programme: drawn up by the agency, validated by the steering committee.
    await wait_until(
        lambda: programme_knows_members(journey, {"A", "B"}), message="programme read model"
    )
    action = await journey.call(
        "POST",
        "programme",
        f"/programmes/{YEAR}/actions",
        201,
        json={
            "axis": "ateliers",
            "title": f"Ateliers smartphone {journey.run}",
            "lead_centre_id": journey.centres["A"],
            "participant_ids": [journey.centres["B"]],
            "starts_on": f"{YEAR}-03-01",
            "ends_on": f"{YEAR}-06-30",
            "estimated_cost": "6000.00",
        },
    )
    await journey.call("POST", "programme", f"/programmes/{YEAR}/submit")
    validated = await journey.call(
        "POST",
        "programme",
        f"/programmes/{YEAR}/validate",
        201,
        json={"deciding_body": "Comité de pilotage"},
        headers=journey.system.copil,
    )
    assert validated["version"] == 1
    subject = f"Programme de travail {YEAR} du réseau validé"
    for key in ("A", "B"):
        mail = await mail_with_subject(journey, key, subject)
        assert action["title"] in mail["Text"]
        assert euros("6000.00") in mail["Text"]
    assert not [
        m for m in await journey.system.mails_to(journey.animator("C")) if m["Subject"] == subject
    ]


async def programme_knows_members(journey: Journey, keys: set[str]) -> bool:
    centres = await journey.call(
        "GET", "programme", "/centres", params={"status": "member"}, headers={}
    )
    known = {c["id"] for c in centres}
    return all(journey.centres[key] in known for key in keys)


def _only_shares_repeat(found: list[str]) -> bool:
    """Share mails may repeat a subject (the same amount reached twice); nothing else may."""
    others = [s for s in found if not s.startswith("Dotation")]
    return len(others) == len(set(others))
