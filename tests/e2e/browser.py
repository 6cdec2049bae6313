"""The web in a real browser: Debian's Chromium, headless, driven by Playwright for Python
(never its own browser download), with axe-core from npm injected into every page.

``web_process`` starts the web service as its own process in front of a running system;
``Browser.visit`` opens a page, fails on any axe violation, keeps a screenshot under
``.local/screenshots/`` (the test run's artifacts) and counts the pages it checked.
"""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from crnt_devstack.services import Service, ServiceProcesses
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.e2e.system import AGENCY_TOKEN, COPIL_TOKEN, System, free_port

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".local" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: WCAG 2.1 A and AA, which the RGAA follows, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def chromium() -> str:
    found = os.environ.get("CRNT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is missing: run `make tools` (it installs Debian's chromium package)")
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `make install` (npm ci)")
    return found


@asynccontextmanager
async def web_process(
    system: System, log_dir: Path, port: int | None = None, **settings: str
) -> AsyncIterator[str]:
    """The web service, as its own process, calling the system's services."""
    web = Service("web", port or free_port(), entry="/")
    env = {
        **os.environ,
        "CRNT_ENV": "test",
        "LOG_JSON": "false",
        "MAILCATCHER_URL": system.mail_url,
        **{f"CRNT_{name.upper()}_URL": service.url for name, service in system.services.items()},
        **settings,
    }
    processes = ServiceProcesses(env, log_dir)
    try:
        processes.start(web)
        await asyncio.to_thread(processes.wait_ready, [web])
        yield web.url
    finally:
        processes.stop_all()


def seed_demo(system: System) -> None:
    """The demo territory of `make run`, through the agency's CLI."""
    env = {
        **os.environ,
        "CRNT_AGENCY_TOKEN": AGENCY_TOKEN,
        "CRNT_COPIL_TOKEN": COPIL_TOKEN,
        **{f"CRNT_{name.upper()}_URL": service.url for name, service in system.services.items()},
    }
    subprocess.run(
        [str(Path(sys.executable).parent / "crnt"), "demo", "seed"],
        env=env,
        check=True,
        capture_output=True,
        timeout=240,
    )


@dataclass
class Browser:
    """One Chromium for a test module; a context (cookies) per person."""

    browser: PlaywrightBrowser
    base_url: str
    checked: list[str] = field(default_factory=list)

    async def person(self) -> BrowserContext:
        # CSP allows no inline script: axe is injected through the page's own API, bypassing it.
        context = await self.browser.new_context(
            base_url=self.base_url,
            bypass_csp=True,
            locale="fr-FR",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        return context

    async def visit(
        self, page: Page, path: str, *, shot: str | None = None, status: int = 200
    ) -> Page:
        response = await page.goto(path)
        assert response is not None
        assert response.status == status, f"{path}: HTTP {response.status}"
        await self.check(page, shot=shot)
        return page

    async def check(self, page: Page, *, shot: str | None = None) -> None:
        """axe on the page as it is now (0 violations), and its screenshot if named."""
        await page.wait_for_load_state("networkidle")
        await page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = await page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
        ]
        assert not violations, f"axe on {page.url}:\n" + "\n".join(violations)
        self.checked.append(page.url)
        if shot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


@asynccontextmanager
async def running_browser(base_url: str) -> AsyncIterator[Browser]:
    executable = chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield Browser(browser, base_url)
        finally:
            await browser.close()


async def fill(page: Page, fields: Mapping[str, str]) -> None:
    """Type each value into the field of its label (a key ``#id``: the field of that id), as a
    person fills a form from top to bottom."""
    for label, value in fields.items():
        field = page.locator(label) if label.startswith("#") else page.get_by_label(label)
        await field.fill(value)
