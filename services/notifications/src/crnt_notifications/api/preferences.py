"""``/preferences/{email}`` and ``/unsubscribe``: what a person receives, set by the agency
or by the person whose address it is, or one category dropped with an unsubscribe link (its
GET asks to confirm; its POST, also RFC 8058's one-click, acts)."""

import html
from datetime import datetime
from typing import Annotated

from crnt_shared.auth import Actor, ActorKind, Role, forbidden, person_id_for
from crnt_shared.http import Problem
from crnt_shared.problems import problems
from fastapi import Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from crnt_notifications import handlers
from crnt_notifications.api.common import LinkPages, Runtime, SignedIn, page, router
from crnt_notifications.domain import Category, normalise_email
from crnt_notifications.links import InvalidToken
from crnt_notifications.runtime import NotificationsRuntime
from crnt_notifications.templates import CATEGORY_LABELS

Email = Annotated[
    str,
    Path(min_length=3, max_length=320, pattern=r"^[^@\s/]+@[^@\s/]+$", description="An address."),
]


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


def own_or_agency(actor: Actor, email: str) -> None:
    """The agency, or the person whose address it is (their id derives from it)."""
    if actor.has(Role.AGENCY):
        return
    if actor.kind is ActorKind.PERSON and actor.id == str(person_id_for(email)):
        return
    raise forbidden("A person sets their own mail preferences only; the agency sets anyone's.")


def _unsubscribe_page(title: str, says: str, email: str, category: Category) -> HTMLResponse:
    """A page about an unsubscription: ``says`` names ``{email}`` and ``{label}`` (escaped)."""
    return page(
        title,
        says.format(
            email=f"<strong>{html.escape(email)}</strong>",
            label=html.escape(CATEGORY_LABELS[category]),
        )
        + "<p>Les messages concernant l'adhésion de votre lieu vous seront toujours envoyés.</p>",
    )


@router.get(
    "/preferences/{email}",
    tags=["preferences"],
    summary="What a person receives (the agency, or the person)",
)
async def get_preferences(email: Email, actor: SignedIn, runtime: Runtime) -> Preferences:
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
    email: Email,
    actor: SignedIn,
    body: PreferencesIn,
    runtime: Runtime,
) -> Preferences:
    own_or_agency(actor, email)
    command = handlers.SetPreferences(email, body.opted_out)
    stored = await runtime.run(handlers.set_preferences, command)
    return _preferences(normalise_email(email), stored)


def verified(runtime: NotificationsRuntime, token: str) -> tuple[str, Category]:
    try:
        unsubscription = runtime.links.verify(token)
    except InvalidToken as error:
        raise Problem(
            400,
            "Invalid link",
            f"{error}. Copy the whole link from the email, or ask the agency.",
        ) from error
    return unsubscription.email, unsubscription.category


Token = Annotated[str, Query(min_length=10, max_length=2000, description="From the email.")]
UNSUBSCRIBE = LinkPages("/unsubscribe", tag="preferences")


@UNSUBSCRIBE.get("The page of an unsubscribe link: asks to confirm")
@problems(400)
async def unsubscribe_page(token: Token, runtime: Runtime) -> HTMLResponse:
    email, category = verified(runtime, token)
    return _unsubscribe_page(
        "Se désinscrire",
        "<p>Ne plus envoyer à {email} les messages « {label} » ?</p>"
        # No action: the form posts to this very URL, token included.
        '<form method="post"><button type="submit">Confirmer</button></form>',
        email,
        category,
    )


@UNSUBSCRIBE.post("Opt out with a signed link (also RFC 8058 one-click)")
@problems(400)
async def unsubscribe(token: Token, runtime: Runtime) -> HTMLResponse:
    email, category = verified(runtime, token)
    await runtime.run(handlers.opt_out, handlers.OptOut(email, category))
    return _unsubscribe_page(
        "Désinscription enregistrée",
        "<p>Vous ne recevrez plus les messages « {label} » à l'adresse {email}.</p>",
        email,
        category,
    )
