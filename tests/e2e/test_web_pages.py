"""The public pages in Chromium, in front of the real services seeded with the demo territory:
every page passes axe, the search updates in place, the application form shows the registry's
refusals beside the fields they concern."""

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import SCREENSHOTS, Browser, fill, running_browser, seed_demo, web_process
from tests.e2e.system import System, running_system

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def seeded(
    kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[System, Path]]:
    logs: Path = tmp_path_factory.mktemp("web-logs")
    async with running_system(kafka_bootstrap, postgres_admin_url, logs) as system:
        seed_demo(system)
        yield system, logs


@pytest.fixture(scope="module")
async def browser(seeded: tuple[System, Path]) -> AsyncIterator[Browser]:
    system, logs = seeded
    started = time.perf_counter()
    async with web_process(system, logs) as url, running_browser(url) as browser:
        yield browser
        print(
            f"\nbrowser: {len(browser.checked)} pages checked by axe, 0 violations,"
            f" in {time.perf_counter() - started:.1f} s"
        )


async def test_every_public_page_passes_axe(browser: Browser, seeded: tuple[System, Path]) -> None:
    system, _ = seeded
    async with httpx.AsyncClient() as client:
        found = await client.get(system.url("registry", "/centres"), params={"status": "member"})
    members = found.json()
    place = members["items"][0]
    context = await browser.person()
    page = await context.new_page()
    for path, shot in (
        ("/", "accueil"),
        ("/lieux", "lieux"),
        (f"/lieux/{place['id']}", None),
        ("/adherer", None),
        ("/programme", "programme"),
        ("/budget?annee=2026", "budget"),
        ("/accessibilite", None),
        ("/mentions-legales", None),
        ("/connexion", None),
    ):
        await browser.visit(page, path, shot=shot)
    await browser.visit(page, "/nulle-part", status=404)
    heading = await page.locator("h1").inner_text()
    assert heading == "Page non trouvée"
    await context.close()


async def test_the_budget_shows_each_chart_with_its_table(browser: Browser) -> None:
    """The demo's 2026 plan (README): expenses 57,500.00, grants 55,000.00, a reste à charge of
    2,500.00 split by population, CAPSO 2,031.71 and CCPL 468.29; the 20 % rule holds with
    37.5 % kept by the owner."""
    context = await browser.person()
    page = await browser.visit(await context.new_page(), "/budget?annee=2026")
    assert await page.locator("svg[role=img] title").count() == 3
    captions = await page.locator("table caption").all_inner_texts()
    for caption in (
        "Quote-part 2026 par intercommunalité",
        "Ressources 2026 par financeur",
        "Dépenses 2026 par nature",
        "Actions du programme 2026 par axe",
        "Dotation 2026 par lieu membre",
    ):
        assert caption in captions
    assert await page.locator(".fr-badge", has_text="Équilibré").count() == 1
    capso = page.locator("tr", has_text="Pays de Saint-Omer (CAPSO)")
    assert "2\u202f031,71\u00a0€" in await capso.inner_text()  # never broken before the €
    ccpl = page.locator("tr", has_text="Pays de Lumbres (CCPL)")
    assert "468,29\u00a0€" in await ccpl.inner_text()
    resources = await page.locator("table", has_text="Ressources 2026").inner_text()
    assert "2\u202f500,00\u00a0€" in resources
    assert "57\u202f500,00\u00a0€" in resources
    rule = await page.locator("#regle-20").inner_text()
    assert "Respectée" in rule
    assert "37,5\u202f%" in rule
    await page.get_by_role("heading", name="Ressources par financeur").scroll_into_view_if_needed()
    await page.screenshot(path=str(SCREENSHOTS / "budget-ecran.png"))  # for the README
    await context.close()


async def test_the_documents_come_from_the_services_through_the_web(
    browser: Browser, seeded: tuple[System, Path]
) -> None:
    """The annex (ODS, XLSX, PDF) and the programme's report (ODS, PDF): the service's
    document, type and file name, unchanged; a version that does not exist is a French 404 page."""
    system, _ = seeded
    context = await browser.person()
    page = await browser.visit(await context.new_page(), "/budget?annee=2026")
    async with page.expect_download() as download:
        await page.get_by_role("link", name=re.compile(r"Annexe budgétaire \(ODS\)")).click()
    assert re.fullmatch(r"budget-2026-v\d+-annexe\.ods", (await download.value).suggested_filename)
    await browser.visit(page, "/programme?annee=2026")
    async with page.expect_download() as download:
        await page.get_by_role("link", name=re.compile(r"Bilan du programme \(PDF\)")).click()
    assert (await download.value).suggested_filename == "programme-2026-bilan.pdf"
    async with (
        httpx.AsyncClient(base_url=browser.base_url, timeout=60) as web,
        httpx.AsyncClient(timeout=60) as services,
    ):
        for path, source in (
            ("/budget/2026/annexe.ods", system.url("budget", "/budgets/2026/annex.ods")),
            ("/budget/2026/annexe.xlsx", system.url("budget", "/budgets/2026/annex.xlsx")),
            ("/budget/2026/annexe.pdf?version=1", system.url("budget", "/budgets/2026/annex.pdf")),
            ("/programme/2026/bilan.ods", system.url("programme", "/programmes/2026/report.ods")),
            ("/programme/2026/bilan.pdf", system.url("programme", "/programmes/2026/report.pdf")),
        ):
            params = {"version": "1"} if "version=1" in path else {}
            ours, theirs = await web.get(path), await services.get(source, params=params)
            assert ours.status_code == theirs.status_code == 200, (path, ours.text[:200])
            for header in ("content-type", "content-disposition"):
                assert ours.headers[header] == theirs.headers[header], (path, header)
            # The same kind of document (each generation dates itself: the bytes differ).
            magic = b"%PDF" if ".pdf" in path else b"PK"  # a PDF, or the zip of ODF / OOXML
            assert ours.content.startswith(magic), path
        missing = await web.get("/budget/2026/annexe.pdf?version=999")
        assert missing.status_code == 404
        assert "Page non trouvée" in missing.text or "version 999" in missing.text
    await context.close()


async def test_searching_places_updates_the_list_in_place(browser: Browser) -> None:
    context = await browser.person()
    page = await browser.visit(await context.new_page(), "/lieux")
    everything = await page.locator("#resultats tbody tr").count()
    assert everything > 3
    await page.get_by_label("Nom, adresse ou code postal").fill("Lumbres")
    await page.wait_for_url("**/lieux?q=Lumbres**")
    rows = page.locator("#resultats tbody tr")
    await page.wait_for_function(
        "n => document.querySelectorAll('#resultats tbody tr').length < n", arg=everything
    )
    assert all("Lumbres" in text for text in await rows.all_inner_texts())
    await browser.check(page)
    await page.get_by_label("Intercommunalité").select_option(
        label="Communauté de communes du Pays de Lumbres (CCPL)"
    )
    await page.wait_for_url("**epci=246201016**")
    await context.close()


async def test_the_application_form_shows_refusals_beside_their_fields(
    browser: Browser, seeded: tuple[System, Path]
) -> None:
    system, _ = seeded
    context = await browser.person()
    page = await browser.visit(await context.new_page(), "/adherer")
    await fill(
        page,
        {
            "Nom du lieu": "Espace numérique du Haut-Pont",
            "SIRET de la structure": "123",
            "#centre-adresse": "2 rue du Haut-Pont",
            "Code postal": "62500",
            "#centre-commune": "Saint-Omer",
            "Code INSEE de la commune": "62765",
            "Nom (personne 1)": "Inès Caron",
            "Courriel (personne 1)": "pas-une-adresse",
        },
    )
    await page.get_by_role("button", name="Envoyer la demande").click()
    await page.wait_for_selector("#erreurs")
    siret_error = page.locator("#centre-pivot-error")
    assert await siret_error.count() == 1
    assert await page.get_by_label("SIRET de la structure").get_attribute("aria-invalid") == "true"
    assert await page.locator("#animators-0-email-error").inner_text()
    assert await page.get_by_label("Nom du lieu").input_value() == "Espace numérique du Haut-Pont"
    await browser.check(page, shot="adhesion-erreurs")

    await page.get_by_label("SIRET de la structure").fill("21620765400007")
    await page.get_by_label("Courriel (personne 1)").fill("ines.caron@example.org")
    await page.get_by_role("button", name="Envoyer la demande").click()
    await page.wait_for_url("**/adherer/merci")
    await browser.check(page)
    async with httpx.AsyncClient() as client:
        found = await client.get(
            system.url("registry", "/applications"),
            params={"status": "pending", "limit": 500},
            headers=system.agency,
        )
    pending = found.json()
    assert "Espace numérique du Haut-Pont" in [a["centre"]["nom"] for a in pending["items"]]
    await context.close()
