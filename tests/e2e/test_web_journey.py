"""The journey of the issue, in Chromium, on the real stack (the five services and the web as
separate processes, the real Kafka, PostgreSQL and mail catcher): the agency approves an
application in the browser and the welcome mail arrives; the animator signs in from the link
in the mail, changes the workstations and sees the new allocation; proposes an action, the
agency plans it and submits the programme, a COPIL member validates it, the animator reports
progress; a person without the right role gets a clear refusal. axe-core on every page."""

import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from crnt_shared import samples
from crnt_shared.testing import wait_until
from playwright.async_api import BrowserContext, Page

from tests.e2e.browser import ROOT, SCREENSHOTS, Browser, fill, running_browser, web_process
from tests.e2e.system import System, free_port, running_system

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
YEAR = date.today().year
AGENT = f"lea.martin@agence-{RUN}.example.org"
COPIL = f"paul.roux@copil-{RUN}.example.org"
ANIMATOR = f"claire.dupont@saint-omer-{RUN}.example.org"
CAPSO = "200069037"
BUDGET = {
    "envelope": "15000.00",
    "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
    "epci_key": "population",
    "funders": [{"name": "Région Hauts-de-France", "amount": "9000.00"}],
    "network_lines": [
        {
            "id": "animation",
            "label": "Animation du réseau",
            "nature": "fonctionnement",
            "estimated": "3000.00",
        }
    ],
}


def siret(seed: int) -> str:
    """A SIRET with a valid Luhn checksum (and so a valid SIREN, its first nine digits)."""
    for candidate in range(seed, seed + 10_000):
        siren = f"{candidate:09d}"
        if _luhn(siren):
            body = siren + "0001"
            for check in range(10):
                if _luhn(body + str(check)):
                    return body + str(check)
    raise AssertionError("unreachable")


def _luhn(digits: str) -> bool:
    total = 0
    for index, digit in enumerate(int(d) for d in reversed(digits)):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


@pytest.fixture
async def journey(
    kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[System, Browser]]:
    logs: Path = tmp_path_factory.mktemp("web-journey-logs")
    web_port = free_port()
    async with running_system(
        kafka_bootstrap,
        postgres_admin_url,
        logs,
        CRNT_AGENCY_EMAILS=AGENT,
        CRNT_COPIL_EMAILS=COPIL,
        NOTIFICATIONS_AGENCY_EMAILS=AGENT,
        NOTIFICATIONS_COALESCING_WINDOW_SECONDS="1",
        IDENTITY_SIGN_IN_URL=f"http://127.0.0.1:{web_port}/connexion/lien",
        # Tokens as short as identity allows: the agency's session outlives several of them,
        # so the web must refresh them on its own for the journey to go through.
        IDENTITY_ACCESS_TOKEN_SECONDS="30",
    ) as system:
        await _territory(system)
        started = time.perf_counter()
        async with (
            web_process(system, logs, web_port) as url,
            running_browser(url) as browser,
        ):
            yield system, browser
            print(
                f"\nweb journey: {len(browser.checked)} pages checked by axe, 0 violations,"
                f" {time.perf_counter() - started:.1f} s in the browser"
            )


async def _territory(system: System) -> None:
    """An EPCI, a budget, and a member centre already in the network (service account)."""
    async with httpx.AsyncClient(timeout=30, headers=system.agency) as client:
        created = await client.post(
            system.url("registry", "/epcis"),
            json={"siren": CAPSO, "name": "CAPSO", "population": 104937, "communes": ["62765"]},
        )
        assert created.status_code in (201, 409), created.text
        put = await client.put(system.url("budget", f"/budgets/{YEAR}"), json=BUDGET)
        assert put.status_code == 200, put.text
        other = await _apply(
            client,
            system,
            "Médiathèque de l’Aa",
            4,
            ("Marc Petit", f"marc.petit@aa-{RUN}.example.org"),
        )
        approved = await client.post(
            system.url("registry", f"/applications/{other['id']}/approve"), json={}
        )
        assert approved.status_code == 200, approved.text


async def _apply(
    client: httpx.AsyncClient,
    system: System,
    name: str,
    workstations: int,
    animator: tuple[str, str],
) -> dict[str, Any]:
    response = await client.post(
        system.url("registry", "/applications"),
        json=samples.application(
            name,
            [animator],
            pivot=siret(int(uuid.uuid4().int % 10**8)),
            workstations=workstations,
        ),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _sign_in(browser: Browser, system: System, email: str, home: str) -> BrowserContext:
    """Ask for a link in the browser, read the mail in the mail catcher's pages, follow it."""
    context = await browser.person()
    page = await browser.visit(await context.new_page(), "/connexion")
    before = len(await system.mails_to(email))
    await page.get_by_label("Adresse électronique").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await _see(page, "text=Consultez votre messagerie")
    await browser.check(page)

    async def mailed() -> bool:
        return len(await system.mails_to(email)) > before

    await wait_until(mailed, timeout=30, message=f"the sign-in mail to {email}")
    inbox = await context.new_page()
    await inbox.goto(f"{system.mail_url}/?q=to:{email}")
    await inbox.get_by_role("link", name=re.compile("connexion", re.IGNORECASE)).first.click()
    await inbox.locator('a[href*="/connexion/lien?jeton="]').first.click()
    await inbox.wait_for_url("**/connexion/lien?jeton=*")
    await browser.check(inbox)
    await inbox.get_by_role("button", name="Me connecter").click()
    await inbox.wait_for_url(f"**{home}**")
    await page.close()
    return context


async def _see(page: Page, selector: str) -> None:
    """Wait for ``selector``; keep a screenshot of the page when it does not come."""
    try:
        await page.wait_for_selector(selector)
    except Exception:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "echec.png"), full_page=True)
        raise


async def _notice(browser: Browser, page: Page, text: str) -> None:
    """The message a page shows after a change, and axe on that page."""
    await _see(page, f"[role=status] >> text={text}")
    await browser.check(page)


async def test_the_journey_in_the_browser(journey: tuple[System, Browser]) -> None:
    system, browser = journey
    async with httpx.AsyncClient(timeout=30, headers=system.agency) as client:
        application = await _apply(
            client, system, "Cybercentre de Saint-Omer", 8, ("Claire Dupont", ANIMATOR)
        )
    centre_name = application["centre"]["nom"]
    centre_id = application["centre_id"]

    # The agency signs in and approves the application.
    agency = await _sign_in(browser, system, AGENT, "/agence")
    page = agency.pages[-1]
    await browser.check(page, shot="agence-tableau-de-bord")
    await browser.visit(page, "/agence/demandes")
    await page.get_by_role("link", name=centre_name).click()
    await page.wait_for_url(f"**/agence/demandes/{application['id']}")
    await browser.check(page, shot="agence-demande")
    await page.screenshot(path=str(SCREENSHOTS / "agence-demande-ecran.png"))  # for the README
    await page.get_by_role("button", name="Approuver l’adhésion").click()
    await page.wait_for_url(f"**/agence/lieux/{centre_id}")
    await _notice(browser, page, "est membre du réseau")

    async def welcomed() -> list[dict[str, Any]]:
        return [m for m in await system.mails_to(ANIMATOR) if "Bienvenue" in m["Subject"]]

    await wait_until(welcomed, timeout=30, message="the welcome mail")

    # The animator signs in from the mailed link, changes the workstations, sees the allocation.
    animator = await _sign_in(browser, system, ANIMATOR, f"/mon-espace/lieux/{centre_id}")
    mine = animator.pages[-1]
    await browser.check(mine, shot="mon-espace")
    before = await mine.locator(".fr-text--lead").first.inner_text()
    await browser.visit(mine, f"/mon-espace/lieux/{centre_id}/modifier")
    await mine.get_by_label("Nombre de postes en accès public").fill("12")
    await mine.get_by_role("button", name="Enregistrer").click()
    await _notice(browser, mine, "Les informations du lieu sont enregistrées")

    async def reallocated() -> str | None:
        await mine.reload()
        now = await mine.locator(".fr-text--lead").first.inner_text()
        return now if now != before and "12" in now else None

    after = await wait_until(reallocated, timeout=45, interval=1, message="the new allocation")
    assert "pour 12 postes" in after
    await browser.check(mine)

    # The animator proposes an action that their centre leads.
    await browser.visit(mine, "/mon-espace/programme")
    await mine.get_by_label("Axe").select_option("ateliers")
    await fill(
        mine,
        {
            "Titre de l’action": f"Ateliers seniors {RUN}",
            "Début": f"{YEAR}-03-01",
            "Fin": f"{YEAR}-06-30",
            "Coût prévu (€)": "1200,00",
        },
    )
    await mine.get_by_label("Nature de la dépense").select_option("fonctionnement")
    await mine.get_by_role("button", name="Proposer l’action").click()
    await _notice(browser, mine, "est proposée")
    card = mine.locator(".fr-card", has_text=f"Ateliers seniors {RUN}")
    assert "fonctionnement, coût prévu 1\u202f200,00\u00a0€" in await card.inner_text()

    # The agency makes it an investment (tablets bought for the workshops), plans it and
    # submits the programme.
    await browser.visit(page, "/agence/programme")
    await page.get_by_label("Nature de la dépense").select_option("investissement")
    await page.get_by_role(
        "button", name=re.compile(f"^Enregistrer la modification .*Ateliers seniors {RUN}")
    ).click()
    await _notice(browser, page, "est modifiée")
    assert "investissement, coût prévu" in await page.content()
    await page.get_by_role(
        "button", name=re.compile(f"^Programmer .*Ateliers seniors {RUN}")
    ).click()
    await _notice(browser, page, "programmée")
    await page.get_by_role("button", name="Soumettre au comité de pilotage").click()
    await _notice(browser, page, "soumis au comité de pilotage")

    # A COPIL member validates it, with the decision's date and reference.
    copil = await _sign_in(browser, system, COPIL, "/copil")
    committee = copil.pages[-1]
    await browser.check(committee, shot="copil")
    await committee.get_by_label("Date de la décision").fill(f"{YEAR}-02-15")
    await committee.get_by_label("Référence de la décision").fill(f"COPIL-{YEAR}-01")
    await committee.get_by_role("button", name=f"Valider le programme {YEAR}").click()
    await _notice(browser, committee, "est validé")

    # The animator reports progress.
    await browser.visit(mine, "/mon-espace/programme")
    await fill(
        mine,
        {
            "Avancement (%)": "40",
            "Où en est l’action": "Deux séances sur cinq",
            "Dépensé (€)": "450,00",
            "Séances tenues": "2",
            "Personnes touchées": "14",
            "Heures d’activité": "4,5",
        },
    )
    await mine.get_by_role(
        "button", name=re.compile(f"^Enregistrer l’avancement .*Ateliers seniors {RUN}")
    ).click()
    await _notice(browser, mine, "40")
    assert "Deux séances sur cinq" in await mine.content()
    assert "2 séances tenues, 14 personnes touchées, 4,5 heures" in await mine.content()

    await _the_plan(browser, system, page)

    # Someone without the role: a clear refusal, not a blank page.
    await browser.visit(mine, "/agence", status=403)
    assert await mine.locator("h1").inner_text() == "Accès refusé"
    await browser.visit(committee, "/mon-espace", status=403)

    # Signing out ends the session: private pages ask to sign in again.
    await browser.visit(page, "/agence")
    await page.get_by_role("button", name="Se déconnecter").first.click()
    await _notice(browser, page, "Vous êtes déconnecté")
    await page.goto("/agence")
    await page.wait_for_url("**/connexion?retour=%2Fagence")
    for context in (agency, animator, copil):
        await context.close()


async def _the_plan(browser: Browser, system: System, page: Page) -> None:
    """The validated programme is in the plan: expenses 15,000 (dotations) + 3,000 (network)
    + 1,200 (the action, an investment, 450 spent) = 19,200; the Region's 9,000 leave a reste
    à charge of 10,200, all CAPSO's (the only EPCI with member centres). The 20 % rule: the
    Region's fixed amount is spread over every expense, 9,000 × 1,200 / 19,200 = 562.50 on the
    investment, which keeps 637.50 (53.1 %). CAPSO's council voted 8,000: the version asks
    more, a new deliberation is needed. The annex and the report come through the web; then
    the year is closed."""
    await browser.visit(page, "/agence/budget")

    async def balanced() -> bool:
        await page.reload()
        return await page.locator(".fr-badge", has_text="Équilibré").count() == 1

    await wait_until(balanced, timeout=45, interval=1, message="the plan with the programme")
    resources = await page.locator("table", has_text="Ressources").inner_text()
    assert "10\u202f200,00\u00a0€" in resources
    assert (
        "19\u202f200,00\u00a0€" in await page.locator("table", has_text="par nature").inner_text()
    )
    rule = await page.locator("#regle-20").inner_text()
    assert "Respectée" in rule
    assert "637,50\u00a0€" in rule
    assert "53,1\u202f%" in rule
    await browser.check(page)

    # CAPSO's council voted less than this version asks.
    await page.locator("select#siren").select_option(CAPSO)  # labelled « Intercommunalité »
    await fill(
        page,
        {
            "Montant voté (€)": "8000,00",
            "Numéro de la délibération": f"D-{YEAR}-042",
            "Date de la délibération": f"{YEAR}-01-20",
        },
    )
    await page.get_by_role("button", name="Enregistrer la participation votée").click()
    await _notice(browser, page, "La participation votée par CAPSO est enregistrée")
    capso = page.locator("table", has_text="Quote-part").locator("tr", has_text="CAPSO")
    row = await capso.first.inner_text()
    assert "8\u202f000,00\u00a0€" in row
    assert f"D-{YEAR}-042" in row
    assert "nouvelle délibération nécessaire" in row
    await page.get_by_role("heading", name="Ressources par financeur").scroll_into_view_if_needed()
    await page.screenshot(path=str(SCREENSHOTS / "agence-budget-ecran.png"))  # for the README

    # The annex, as the budget service made it, through the web.
    async with page.expect_download() as download:
        await page.get_by_role("link", name=re.compile(r"Annexe budgétaire \(XLSX\)")).click()
    annex = await download.value
    assert re.fullmatch(rf"budget-{YEAR}-v\d+-annexe\.xlsx", annex.suggested_filename)
    assert (await annex.path()).read_bytes()[:2] == b"PK"  # a zip: the OOXML workbook
    async with httpx.AsyncClient(base_url=browser.base_url) as client:
        pdf = await client.get(f"/budget/{YEAR}/annexe.pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        ods = await client.get(f"/programme/{YEAR}/bilan.ods")
        assert ods.status_code == 200, ods.text
        assert ods.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
        assert f'filename="programme-{YEAR}-bilan.ods"' in ods.headers["content-disposition"]

    # The programme's report: the indicators by axis.
    await browser.visit(page, "/agence/programme")
    indicators = await page.locator("table", has_text="Indicateurs").inner_text()
    assert "14" in indicators
    assert "4,5" in indicators
    async with page.expect_download() as download:
        await page.get_by_role("link", name=re.compile(r"Bilan du programme \(PDF\)")).click()
    assert (await download.value).suggested_filename == f"programme-{YEAR}-bilan.pdf"

    # Closing the year, once confirmed: nothing recalculates it afterwards.
    await browser.visit(page, "/agence/budget")
    await page.locator("label[for=confirm-cloture]").click()
    await page.get_by_role("button", name=f"Clore l’exercice {YEAR}").click()
    await _notice(browser, page, f"L’exercice {YEAR} est clos")
    assert await page.get_by_role("button", name="Enregistrer le budget").count() == 0
    async with httpx.AsyncClient(timeout=30, headers=system.agency) as client:
        budget = (await client.get(system.url("budget", f"/budgets/{YEAR}"))).json()
    assert budget["closed_at"]


async def test_the_agency_back_office_in_the_browser(
    journey: tuple[System, Browser], tmp_path: Path
) -> None:
    """The agency's other pages: reject with a reason, suspend / reinstate / withdraw, the CSV
    import with its report of refused lines, the export, people, the budget and its versions,
    the mails; and an animator's mail preferences."""
    system, browser = journey
    async with httpx.AsyncClient(timeout=30, headers=system.agency) as client:
        refused = await _apply(
            client,
            system,
            "Tiers-lieu des Bruyères",
            2,
            ("Inès Caron", f"ines@tl-{RUN}.example.org"),
        )
        member = await _apply(
            client, system, "Cybercentre de Saint-Omer", 6, ("Claire Dupont", ANIMATOR)
        )
        approved = await client.post(
            system.url("registry", f"/applications/{member['id']}/approve"), json={}
        )
        assert approved.status_code == 200, approved.text
    agency = await _sign_in(browser, system, AGENT, "/agence")
    page = agency.pages[-1]

    # Reject with a reason.
    await browser.visit(page, f"/agence/demandes/{refused['id']}")
    await page.get_by_label("Raison du refus").fill("Le lieu n’accueille pas de public.")
    await page.get_by_role("button", name="Refuser la demande").click()
    await _notice(browser, page, "La demande est refusée")
    await browser.visit(page, "/agence/demandes?statut=rejected")
    assert await page.get_by_role("link", name="Tiers-lieu des Bruyères").count() == 1

    # Suspend, reinstate, withdraw, each with its reason; the history says it all.
    centre = f"/agence/lieux/{member['centre_id']}"
    await browser.visit(page, "/agence/lieux?statut=member")
    await page.get_by_role("link", name="Cybercentre de Saint-Omer").click()
    await page.wait_for_url(f"**{centre}")
    for field, reason, button, notice in (
        ("Raison de la suspension", "Travaux", "Suspendre le lieu", "Le lieu est suspendu"),
        ("Raison de la réintégration", "Réouvert", "Réintégrer le lieu", "de nouveau membre"),
        ("Raison du retrait", "Fermeture", "Retirer le lieu du réseau", "a quitté le réseau"),
    ):
        await page.get_by_label(field).fill(reason)
        await page.get_by_role("button", name=button).click()
        await _notice(browser, page, notice)
    history = await page.locator("table", has_text="Historique").inner_text()
    for reason in ("Travaux", "Réouvert", "Fermeture"):
        assert reason in history

    # The CSV import: refused lines reported, nothing imported; then a file that goes in.
    source = ROOT / "services" / "registry" / "tests" / "data" / "pays-de-saint-omer-lieux.csv"
    await browser.visit(page, "/agence/import")
    await page.get_by_label("Fichier CSV").set_input_files(str(source))
    await page.get_by_role("button", name="Envoyer le fichier").click()
    await _see(page, "text=Le fichier n’a pas été importé")
    refused_lines = page.locator("table", has_text="Lignes refusées").locator("tbody tr")
    assert await refused_lines.count() == 6  # the places outside Saint-Omer, whose EPCI is unknown
    await browser.check(page, shot="agence-import-refus")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    saint_omer = tmp_path / "saint-omer.csv"
    saint_omer.write_text(lines[0] + "".join(line for line in lines[1:] if ",62765," in line))
    await page.get_by_label("Fichier CSV").set_input_files(str(saint_omer))
    await page.get_by_role("button", name="Envoyer le fichier").click()
    await _see(page, "text=2 demandes créées")
    await browser.check(page)
    async with page.expect_download() as download:
        await page.get_by_role("link", name=re.compile("Télécharger les lieux membres")).click()
    exported = (await (await download.value).path()).read_text(encoding="utf-8")
    assert "Médiathèque de l’Aa" in exported
    assert "Cybercentre de Saint-Omer" not in exported  # withdrawn

    # People: a COPIL member added by the agency.
    await browser.visit(page, "/agence/personnes")
    await page.get_by_label("Nom").fill("Sophie Lefebvre")
    await page.get_by_label("Courriel").fill(f"sophie@copil-{RUN}.example.org")
    await page.locator("label[for=role-copil]").click()  # the DSFR draws the radio on its label
    await page.get_by_role("button", name="Ajouter").click()
    await _notice(browser, page, "peut désormais se connecter")
    assert await page.get_by_role("cell", name="Sophie Lefebvre", exact=True).count() == 1

    # The budget: a new configuration makes a new version; two versions compared.
    await browser.visit(page, "/agence/budget")
    assert await page.get_by_label("Ligne 1", exact=True).input_value() == "Animation du réseau"
    await page.get_by_label("Enveloppe répartie entre les lieux membres (€)").fill("18000,00")
    await page.get_by_label("Ligne 2", exact=True).fill("Communication du réseau")
    await page.get_by_label("Prévu (€, ligne 2)").fill("500,00")
    await page.get_by_role("button", name="Enregistrer le budget").click()
    await _notice(browser, page, "Le budget")
    # No validated programme yet: the plan says so; dotations 18,000 + lines 3,500 − 9,000.
    assert await page.locator(".fr-badge", has_text="En attente du programme validé").count()
    assert (
        "12\u202f500,00\u00a0€" in await page.locator("table", has_text="Ressources").inner_text()
    )
    await page.get_by_label("Comparer la version").select_option("1")
    await page.get_by_role("button", name="Comparer").click()
    await _see(page, "text=De la version 1 à la version")
    await browser.check(page, shot="agence-budget")

    # The mails, and the other pages of the back office.
    for path in ("/agence/envois?statut=", "/agence/epci", "/agence/lieux", "/agence"):
        await browser.visit(page, path)

    # An animator's mail preferences (of the other member centre).
    animator = await _sign_in(
        browser, system, f"marc.petit@aa-{RUN}.example.org", "/mon-espace/lieux/"
    )
    mine = animator.pages[-1]
    await browser.visit(mine, "/mon-espace/preferences")
    await mine.locator("label", has_text="Nouveaux membres du réseau").click()
    await mine.get_by_role("button", name="Enregistrer").click()
    await _notice(browser, mine, "Vos préférences sont enregistrées")
    assert not await mine.get_by_label("Nouveaux membres du réseau").is_checked()
    for context in (agency, animator):
        await context.close()
