"""The notifications service's HTTP API under ``/api/v1``: thin adapters.

Deliveries show personal data: the agency only. Preferences: the agency, or the person whose
address it is (a signed-in animator or COPIL member sets their own). The unsubscribe and
confirmation endpoints need no token: their signed link is the proof. Their GET only shows a
page that asks to confirm (a mail scanner that opens links changes nothing); the POST acts.
"""

import html
from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from crnt_shared.auth import Actor, ActorKind, Role, forbidden, person_id_for
from crnt_shared.dates import french_datetime
from crnt_shared.errors import NotFound
from crnt_shared.events import utcnow
from crnt_shared.http import Problem
from crnt_shared.problems import problems
from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from crnt_notifications import handlers
from crnt_notifications.domain import Category, Kind, Status, normalise_email
from crnt_notifications.links import (
    ConfirmationLinks,
    ConfirmationRequest,
    ExpiredToken,
    InvalidToken,
    UnsubscribeLinks,
)
from crnt_notifications.repository import Delivery, DeliveryFilters
from crnt_notifications.runtime import NotificationsRuntime
from crnt_notifications.settings import NotificationsSettings
from crnt_notifications.templates import CATEGORY_LABELS

MAX_PAGE = 500
NNBSP = "\u202f"  # before : ; ! ? and inside « », as French typography wants

Email = Annotated[
    str,
    Path(min_length=3, max_length=320, pattern=r"^[^@\s/]+@[^@\s/]+$", description="An address."),
]


class DeliverySummary(BaseModel):
    id: UUID
    event_id: UUID
    event_ids: list[UUID]
    recipient: str
    kind: Kind
    category: Category
    centre_id: UUID | None
    subject: str
    status: Status
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> Self:
        return cls.model_validate(delivery.__dict__)


class DeliveryDetail(DeliverySummary):
    body_text: str
    body_html: str
    unsubscribe_url: str | None


class DeliveryPage(BaseModel):
    items: list[DeliverySummary]
    total: int
    limit: int
    offset: int


class CategoryPreference(BaseModel):
    category: Category
    label: str
    essential: bool = Field(description="Essential categories are always sent.")
    opted_out: bool


class Preferences(BaseModel):
    email: str
    opted_out: list[Category]
    categories: list[CategoryPreference]
    updated_at: datetime | None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opted_out: list[Category] = Field(
        description="The categories this person does not want; essential ones cannot be listed."
    )

    @field_validator("opted_out")
    @classmethod
    def _not_essential(cls, categories: list[Category]) -> list[Category]:
        essential = sorted(category.value for category in categories if category.essential)
        if essential:
            raise ValueError(
                f"{', '.join(essential)} cannot be opted out of: decisions about one's own "
                "centre and the agency's work are always sent"
            )
        return sorted(set(categories))


def _preferences(email: str, stored: handlers.StoredPreferences) -> Preferences:
    known = Category.__members__.values()
    chosen = {Category(value) for value in stored.opted_out if value in known}
    return Preferences(
        email=email,
        opted_out=sorted(chosen),
        categories=[
            CategoryPreference(
                category=category,
                label=CATEGORY_LABELS[category],
                essential=category.essential,
                opted_out=category in chosen,
            )
            for category in Category
        ],
        updated_at=stored.updated_at,
    )


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:40em;margin:2em auto;">'
        f'<h1 style="font-size:1.3em;">{html.escape(title)}</h1>{body}</body></html>',
        status_code=status_code,
    )


def _confirmation_refused(error: InvalidToken) -> HTMLResponse:
    if isinstance(error, ExpiredToken):
        return _page(
            "Lien expiré",
            f"<p>Ce lien de confirmation a expiré le {french_datetime(error.expired_at)}{NNBSP}:"
            " la demande d'adhésion qu'il concernait n'est plus en attente.</p>"
            "<p>Si votre lieu souhaite toujours rejoindre le réseau, déposez une nouvelle"
            " demande.</p>",
            status_code=410,
        )
    return _page(
        "Lien non valide",
        f"<p>Ce lien de confirmation n'est pas valide{NNBSP}: il a peut-être été coupé ou"
        " modifié.</p><p>Ouvrez le lien complet depuis le message reçu, ou copiez-le en entier"
        " dans votre navigateur.</p>",
        status_code=400,
    )


def _unsubscribe_page(title: str, says: str, email: str, category: Category) -> HTMLResponse:
    """A page about an unsubscription: ``says`` names ``{email}`` and ``{label}`` (escaped)."""
    return _page(
        title,
        says.format(
            email=f"<strong>{html.escape(email)}</strong>",
            label=html.escape(CATEGORY_LABELS[category]),
        )
        + "<p>Les messages concernant l'adhésion de votre lieu vous seront toujours envoyés.</p>",
    )


#: The pages a person's browser gets when a confirmation link is refused: HTML, not problems.
LINK_PAGES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a valid link", "content": {"text/html": {}}},
    410: {"description": "Expired", "content": {"text/html": {}}},
}


def build_router(
    runtime: NotificationsRuntime,
    settings: NotificationsSettings,
    links: UnsubscribeLinks,
    confirmations: ConfirmationLinks,
) -> APIRouter:
    router = APIRouter()
    agency = [runtime.auth.require(Role.AGENCY)]
    signed_in = runtime.auth.require(Role.AGENCY, Role.COPIL, Role.ANIMATOR)

    def own_or_agency(actor: Actor, email: str) -> None:
        """The agency, or the person whose address it is (their id derives from it)."""
        if actor.has(Role.AGENCY):
            return
        if actor.kind is ActorKind.PERSON and actor.id == str(person_id_for(email)):
            return
        raise forbidden("A person sets their own mail preferences only; the agency sets anyone's.")

    @router.get(
        "/deliveries",
        tags=["deliveries"],
        dependencies=agency,
        summary="Deliveries, newest first, filtered by recipient, status, kind or event",
    )
    async def list_deliveries(
        recipient: Annotated[str | None, Query(max_length=320)] = None,
        status: Status | None = None,
        kind: Kind | None = None,
        event: Annotated[UUID | None, Query(description="An event the email tells about.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> DeliveryPage:
        filters = DeliveryFilters(recipient, status, kind, event)
        items, total = await runtime.read(
            lambda repository: repository.deliveries(filters, limit=limit, offset=offset)
        )
        return DeliveryPage(
            items=[DeliverySummary.of(item) for item in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/deliveries/{delivery_id}",
        tags=["deliveries"],
        dependencies=agency,
        summary="One delivery, with the email's content",
    )
    async def get_delivery(delivery_id: UUID) -> DeliveryDetail:
        delivery = await runtime.read(lambda repository: repository.delivery(delivery_id))
        if delivery is None:
            raise NotFound(f"There is no delivery {delivery_id}.")
        return DeliveryDetail.of(delivery)

    @router.post(
        "/deliveries/{delivery_id}/retry",
        tags=["deliveries"],
        dependencies=agency,
        status_code=202,
        summary="Send a failed (or waiting) delivery again, now",
    )
    async def retry_delivery(delivery_id: UUID) -> DeliveryDetail:
        updated = await runtime.run(handlers.retry_delivery, handlers.RetryDelivery(delivery_id))
        runtime.sender.wake()
        return DeliveryDetail.of(updated)

    @router.get(
        "/preferences/{email}",
        tags=["preferences"],
        summary="What a person receives (the agency, or the person)",
    )
    async def get_preferences(email: Email, actor: Annotated[Actor, signed_in]) -> Preferences:
        own_or_agency(actor, email)
        stored = await runtime.read(lambda repository: repository.preferences(email))
        return _preferences(normalise_email(email), handlers.StoredPreferences(*stored))

    @router.put(
        "/preferences/{email}",
        tags=["preferences"],
        summary="Set the categories a person opted out of (the agency, or the person)",
    )
    @problems()
    async def put_preferences(
        email: Email, actor: Annotated[Actor, signed_in], body: PreferencesIn
    ) -> Preferences:
        own_or_agency(actor, email)
        command = handlers.SetPreferences(email, body.opted_out)
        stored = await runtime.run(handlers.set_preferences, command)
        return _preferences(normalise_email(email), stored)

    def verified(token: str) -> tuple[str, Category]:
        try:
            unsubscription = links.verify(token)
        except InvalidToken as error:
            raise Problem(
                400,
                "Invalid link",
                f"{error}. Copy the whole link from the email, or ask the agency.",
            ) from error
        return unsubscription.email, unsubscription.category

    Token = Annotated[str, Query(min_length=10, max_length=2000, description="From the email.")]

    @router.get(
        "/unsubscribe",
        tags=["preferences"],
        response_class=HTMLResponse,
        summary="The page of an unsubscribe link: asks to confirm",
    )
    @problems(400)
    async def unsubscribe_page(token: Token) -> HTMLResponse:
        email, category = verified(token)
        return _unsubscribe_page(
            "Se désinscrire",
            "<p>Ne plus envoyer à {email} les messages « {label} » ?</p>"
            # No action: the form posts to this very URL, token included.
            '<form method="post"><button type="submit">Confirmer</button></form>',
            email,
            category,
        )

    @router.post(
        "/unsubscribe",
        tags=["preferences"],
        response_class=HTMLResponse,
        summary="Opt out with a signed link (also RFC 8058 one-click)",
    )
    @problems(400)
    async def unsubscribe(token: Token) -> HTMLResponse:
        email, category = verified(token)
        await runtime.run(handlers.opt_out, handlers.OptOut(email, category))
        return _unsubscribe_page(
            "Désinscription enregistrée",
            "<p>Vous ne recevrez plus les messages « {label} » à l'adresse {email}.</p>",
            email,
            category,
        )

    ConfirmationToken = Annotated[
        str,
        Path(
            min_length=10,
            max_length=2000,
            pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
            description="From the confirmation email.",
        ),
    ]

    def confirmation(token: str) -> ConfirmationRequest | HTMLResponse:
        try:
            return confirmations.verify(token, utcnow())
        except InvalidToken as error:
            return _confirmation_refused(error)

    @router.get(
        "/confirmations/{token}",
        tags=["confirmations"],
        response_class=HTMLResponse,
        summary="The page of a confirmation link: asks to confirm the address",
        responses=LINK_PAGES,
    )
    async def confirmation_page(token: ConfirmationToken) -> HTMLResponse:
        request = confirmation(token)
        if isinstance(request, HTMLResponse):
            return request
        email = html.escape(request.email)
        return _page(
            "Confirmer votre adresse",
            f"<p>Confirmez-vous que l'adresse <strong>{email}</strong> est bien la vôtre et que"
            f" vous êtes à l'origine de la demande d'adhésion au réseau{NNBSP}?</p>"
            # No action: the form posts to this very URL, token included.
            '<form method="post"><button type="submit">Confirmer mon adresse</button></form>'
            "<p>Si vous n'êtes pas à l'origine de cette demande, fermez simplement cette page"
            f"{NNBSP}: vous ne recevrez aucun autre message.</p>",
        )

    @router.post(
        "/confirmations/{token}",
        tags=["confirmations"],
        response_class=HTMLResponse,
        summary="Confirm an address named in an application, with its signed link",
        responses=LINK_PAGES,
    )
    @problems()
    async def confirm(token: ConfirmationToken) -> HTMLResponse:
        request = confirmation(token)
        if isinstance(request, HTMLResponse):
            return request
        command = handlers.ConfirmAddress(
            request.application_id, request.email, topic=settings.notifications_topic
        )
        await runtime.run(handlers.confirm_address, command)
        email = html.escape(request.email)
        return _page(
            "Adresse confirmée",
            f"<p>Merci{NNBSP}! L'adresse <strong>{email}</strong> est confirmée.</p>"
            "<p>Vous allez recevoir l'accusé de réception de la demande d'adhésion, puis la"
            " décision du Centre de Ressources Numériques Territorial.</p>",
        )

    return router
