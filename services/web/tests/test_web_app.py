"""The web in this process: its pages, cookie, CSRF and error pages, with no service behind it
(every service URL points at a closed port, so a page that needs one says so in French)."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from crnt_shared.testing import app_client
from crnt_web.app import create_app
from crnt_web.settings import WebSettings
from pydantic import ValidationError

NN = "\u202f"
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


def settings(**overrides: object) -> WebSettings:
    values: dict[str, object] = {
        "registry_url": CLOSED,
        "programme_url": CLOSED,
        "budget_url": CLOSED,
        "notifications_url": CLOSED,
        "identity_url": CLOSED,
        "env": "test",
        "log_json": False,
        "log_level": "WARNING",
        **overrides,
    }
    return WebSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings())
    async with app.router.lifespan_context(app), app_client(app, "web") as client:
        yield client


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries no CSRF token"
    return match[1]


async def test_pages_are_french_dsfr_with_typography(web: httpx.AsyncClient) -> None:
    page = await web.get("/mentions-legales")
    assert page.status_code == 200
    assert '<html lang="fr"' in page.text
    assert 'href="/static/dsfr/dsfr.min.css"' in page.text
    assert f"Accessibilité{NN}: partiellement conforme" in page.text
    assert 'href="#contenu"' in page.text
    assert 'id="contenu"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_assets_are_served_by_the_app(web: httpx.AsyncClient) -> None:
    css = await web.get("/static/dsfr/dsfr.min.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert (await web.get("/static/dsfr/dsfr.module.min.js")).status_code == 200
    assert (await web.get("/static/htmx/htmx.min.js")).status_code == 200
    assert (await web.get("/static/dsfr/fonts/Marianne-Regular.woff2")).status_code == 200


async def test_unknown_page_is_a_french_404(web: httpx.AsyncClient) -> None:
    page = await web.get("/nulle-part")
    assert page.status_code == 404
    assert "Page non trouvée" in page.text
    assert "<h1>" in page.text


async def test_a_service_that_does_not_answer_is_said_in_french(web: httpx.AsyncClient) -> None:
    page = await web.get("/lieux")
    assert page.status_code == 503
    assert "Le registre des lieux ne répond pas pour le moment" in page.text


async def test_session_cookie_is_httponly_and_samesite(web: httpx.AsyncClient) -> None:
    page = await web.get("/connexion")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("crnt_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()


async def test_session_cookie_is_secure_in_production() -> None:
    app = create_app(settings(env="production", session_secret="s" * 40))
    async with app.router.lifespan_context(app), app_client(app, "web") as client:
        cookie = (await client.get("/connexion")).headers["set-cookie"].lower()
    assert "; secure" in cookie
    assert "httponly" in cookie


def test_production_refuses_the_development_session_secret() -> None:
    with pytest.raises(ValidationError, match="WEB_SESSION_SECRET"):
        settings(env="production")


async def test_a_form_without_its_csrf_token_is_refused(web: httpx.AsyncClient) -> None:
    await web.get("/connexion")
    refused = await web.post("/connexion", data={"email": "agent@example.org"})
    assert refused.status_code == 403
    assert "Formulaire expiré" in refused.text
    forged = await web.post(
        "/connexion", data={"email": "agent@example.org", "csrf_token": "forged"}
    )
    assert forged.status_code == 403


async def test_a_form_with_its_token_goes_through(web: httpx.AsyncClient) -> None:
    token = csrf_of((await web.get("/connexion")).text)
    sent = await web.post("/connexion", data={"email": "agent@example.org", "csrf_token": token})
    assert sent.status_code == 503  # accepted by the web; identity (closed port) is down
    assert "La connexion ne répond pas" in sent.text


async def test_private_pages_send_to_the_sign_in(web: httpx.AsyncClient) -> None:
    for path in ("/agence", "/copil", "/mon-espace"):
        response = await web.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/connexion?retour={path.replace('/', '%2F')}"


async def test_sign_in_never_redirects_elsewhere(web: httpx.AsyncClient) -> None:
    page = await web.get("/connexion", params={"retour": "//evil.example/x"})
    assert 'name="retour" value=""' in page.text
    page = await web.get("/connexion", params={"retour": "/agence/demandes"})
    assert 'name="retour" value="/agence/demandes"' in page.text
