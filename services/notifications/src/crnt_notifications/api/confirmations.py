"""``/confirmations/{token}``: an address named in an anonymous application confirms it with
its signed link (the GET asks to confirm, a mail scanner that opens links changes nothing; the
POST confirms). A refused link gets an HTML page, not a problem: a person's browser reads it."""

import html
from typing import Annotated, Any

from crnt_shared.dates import french_datetime
from crnt_shared.events import utcnow
from crnt_shared.problems import problems
from fastapi import Path
from fastapi.responses import HTMLResponse

from crnt_notifications import handlers
from crnt_notifications.api.common import NNBSP, LinkPages, Runtime, page
from crnt_notifications.links import ConfirmationRequest, ExpiredToken, InvalidToken
from crnt_notifications.runtime import NotificationsRuntime


def _confirmation_refused(error: InvalidToken) -> HTMLResponse:
    if isinstance(error, ExpiredToken):
        return page(
            "Lien expiré",
            f"<p>Ce lien de confirmation a expiré le {french_datetime(error.expired_at)}{NNBSP}:"
            " la demande d'adhésion qu'il concernait n'est plus en attente.</p>"
            "<p>Si votre lieu souhaite toujours rejoindre le réseau, déposez une nouvelle"
            " demande.</p>",
            status_code=410,
        )
    return page(
        "Lien non valide",
        f"<p>Ce lien de confirmation n'est pas valide{NNBSP}: il a peut-être été coupé ou"
        " modifié.</p><p>Ouvrez le lien complet depuis le message reçu, ou copiez-le en entier"
        " dans votre navigateur.</p>",
        status_code=400,
    )


#: The pages a person's browser gets when a confirmation link is refused: HTML, not problems.
LINK_PAGES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a valid link", "content": {"text/html": {}}},
    410: {"description": "Expired", "content": {"text/html": {}}},
}


ConfirmationToken = Annotated[
    str,
    Path(
        min_length=10,
        max_length=2000,
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        description="From the confirmation email.",
    ),
]

CONFIRMATION = LinkPages("/confirmations/{token}", tag="confirmations", responses=LINK_PAGES)


def confirmation(runtime: NotificationsRuntime, token: str) -> ConfirmationRequest | HTMLResponse:
    try:
        return runtime.confirmations.verify(token, utcnow())
    except InvalidToken as error:
        return _confirmation_refused(error)


@CONFIRMATION.get("The page of a confirmation link: asks to confirm the address")
async def confirmation_page(token: ConfirmationToken, runtime: Runtime) -> HTMLResponse:
    request = confirmation(runtime, token)
    if isinstance(request, HTMLResponse):
        return request
    email = html.escape(request.email)
    return page(
        "Confirmer votre adresse",
        f"<p>Confirmez-vous que l'adresse <strong>{email}</strong> est bien la vôtre et que"
        f" vous êtes à l'origine de la demande d'adhésion au réseau{NNBSP}?</p>"
        # No action: the form posts to this very URL, token included.
        '<form method="post"><button type="submit">Confirmer mon adresse</button></form>'
        "<p>Si vous n'êtes pas à l'origine de cette demande, fermez simplement cette page"
        f"{NNBSP}: vous ne recevrez aucun autre message.</p>",
    )


@CONFIRMATION.post("Confirm an address named in an application, with its signed link")
@problems()
async def confirm(token: ConfirmationToken, runtime: Runtime) -> HTMLResponse:
    request = confirmation(runtime, token)
    if isinstance(request, HTMLResponse):
        return request
    command = handlers.ConfirmAddress(
        request.application_id, request.email, topic=runtime.settings.notifications_topic
    )
    await runtime.run(handlers.confirm_address, command)
    email = html.escape(request.email)
    return page(
        "Adresse confirmée",
        f"<p>Merci{NNBSP}! L'adresse <strong>{email}</strong> est confirmée.</p>"
        "<p>Vous allez recevoir l'accusé de réception de la demande d'adhésion, puis la"
        " décision du Centre de Ressources Numériques Territorial.</p>",
    )
