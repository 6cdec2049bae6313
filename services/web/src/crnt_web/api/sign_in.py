"""Sign-in by a link sent by email (the identity service mails it), and sign-out."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crnt_web.api.common import backend, pages, text
from crnt_web.backend import ApiError
from crnt_web.pages import notify
from crnt_web.session import csrf_token, forget, store_sign_in

router = APIRouter()


def _safe_return(target: str | None) -> str | None:
    """Only a path of this site: never an address elsewhere (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, retour: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    return pages(request).response(
        request, "public/sign_in.html", {"retour": _safe_return(retour) or ""}
    )


@router.post("/connexion", response_class=HTMLResponse)
async def ask_for_link(request: Request) -> Response:
    form = await request.form()
    email = text(form, "email")
    retour = _safe_return(text(form, "retour"))
    body = {"email": email, **({"return_to": retour} if retour else {})}
    try:
        await backend(request).post("identity", "/sign-in", json=body)
    except ApiError as error:
        if error.status == 429:
            detail = (
                "Trop de demandes de lien pour le moment : attendez quelques minutes avant"
                " d’en demander un autre."
            )
            errors: dict[str, str] = {}
        else:
            detail = None
            errors = {"email": error.fields.get("email") or "Saisissez une adresse électronique."}
        context: dict[str, object] = {
            "retour": retour or "",
            "values": {"email": email},
            "errors": errors,
            "detail": detail,
        }
        status = 429 if error.status == 429 else 400
        return pages(request).response(request, "public/sign_in.html", context, status_code=status)
    request.session["return_to"] = retour
    return pages(request).response(request, "public/link_sent.html", {"email": email})


@router.get("/connexion/lien", response_class=HTMLResponse)
async def link_landing(
    request: Request, jeton: Annotated[str, Query(min_length=1, max_length=500)]
) -> Response:
    """The mailed link: a button to confirm, so that a mail scanner opening links (a GET)
    does not use up the single-use link."""
    return pages(request).response(request, "public/link.html", {"jeton": jeton})


@router.post("/connexion/lien", response_class=HTMLResponse)
async def redeem(request: Request) -> Response:
    form = await request.form()
    try:
        tokens = await backend(request).post(
            "identity", "/sign-in/redeem", json={"token": text(form, "jeton")}
        )
    except ApiError:
        return pages(request).response(request, "public/link_invalid.html", status_code=400)
    target = _safe_return(request.session.get("return_to"))
    request.session.clear()  # a fresh session: nothing from before the sign-in carries over
    csrf_token(request)
    store_sign_in(request, tokens)
    person = tokens.get("person", {})
    notify(
        request,
        f"Bienvenue, {person.get('display_name') or person.get('email', '')} : vous êtes connecté.",
    )
    if target is None:
        roles = set(person.get("roles", []))
        target = (
            "/agence"
            if "agency" in roles
            else "/copil"
            if "copil" in roles
            else "/mon-espace"
            if "animator" in roles
            else "/"
        )
    return RedirectResponse(target, status_code=303)


@router.post("/deconnexion")
async def sign_out(request: Request) -> Response:
    refresh = forget(request)
    if refresh:
        # Already ended or not: the browser's session is gone either way.
        with contextlib.suppress(ApiError):
            await backend(request).request(
                "POST", "identity", "/sessions/end", json={"refresh_token": refresh}
            )
    notify(request, "Vous êtes déconnecté.", "info")
    return RedirectResponse("/", status_code=303)
