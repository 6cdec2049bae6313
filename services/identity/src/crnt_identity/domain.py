"""Identity's rules, without I/O: who may sign in and with which roles, the secrets of links
and sessions, and the sign-in mail (in French)."""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from uuid import UUID

from crnt_shared.auth import Role
from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before

#: A sign-in link works once, for this long.
LINK_LIFETIME = timedelta(minutes=15)
#: Roles the agency grants; ``animator`` comes from the registry.
GRANTED_ROLES = frozenset({Role.AGENCY, Role.COPIL})


class LinkNotValid(RuleViolation):
    """Unknown, used or expired: one message for the three, so that none can be told apart."""

    def __init__(self) -> None:
        super().__init__(
            "This sign-in link is not valid (already used, expired, or mistyped): ask for a new one"
        )


class SessionEnded(RuleViolation):
    def __init__(self) -> None:
        super().__init__("The session has ended: sign in again")


def normalise_email(address: str) -> str:
    return address.strip().lower()


def display_name_from(email: str) -> str:
    """A first display name for an address given without one (``lea.martin@`` → ``Lea Martin``)."""
    local = normalise_email(email).split("@", 1)[0]
    words = [word for word in local.replace("_", ".").replace("-", ".").split(".") if word]
    return " ".join(word.capitalize() for word in words) or local


def new_secret() -> str:
    """A link's secret or a refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """What the database keeps of a secret."""
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True)
class Person:
    """A person identity knows: agency or COPIL by grant, or an animator who signed in."""

    id: UUID
    email: str
    display_name: str
    roles: frozenset[Role]
    removed: bool


@dataclass(frozen=True)
class Animation:
    """That a person animates a centre, as the registry's events tell."""

    centre_id: UUID
    name: str
    member: bool


@dataclass(frozen=True)
class Standing:
    """What a person may do now: their roles and the member centres they animate."""

    person: Person
    roles: frozenset[Role]
    centres: frozenset[UUID]
    display_name: str

    @property
    def may_sign_in(self) -> bool:
        return not self.person.removed and bool(self.roles)


def standing(person: Person, animations: Iterable[Animation]) -> Standing:
    """Roles granted by the agency, plus ``animator`` for an animator of a member centre."""
    if person.removed:
        return Standing(person, frozenset(), frozenset(), person.display_name)
    members = [animation for animation in animations if animation.member]
    roles = set(person.roles & GRANTED_ROLES)
    if members:
        roles.add(Role.ANIMATOR)
    name = person.display_name
    if not person.roles and members:
        name = members[0].name  # an animator is named as the registry names them
    return Standing(person, frozenset(roles), frozenset(a.centre_id for a in members), name)


def safe_return_to(value: str | None) -> str | None:
    """A path of the web to go back to after signing in; never another site."""
    if value is None:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        raise ValueError("return_to must be a path of the site, such as /programme")
    return value


def link_expires_at(now: datetime) -> datetime:
    return now + LINK_LIFETIME


# The sign-in mail, in French (espace insécable before the colon, apostrophes typographiques).

SIGN_IN_SUBJECT = "Votre lien de connexion au réseau des cybercentres"


def sign_in_text(link: str) -> str:
    return (
        "Bonjour,\n\n"
        "Pour vous connecter à l’espace du réseau des cybercentres, ouvrez ce lien\u00a0:\n\n"
        f"{link}\n\n"
        "Il est valable 15\u00a0minutes et ne sert qu’une fois. Si vous n’avez pas demandé à "
        "vous connecter, ignorez ce message\u00a0: sans ce lien, personne ne peut se connecter "
        "à votre place.\n\n"
        "Le Centre de ressources numériques territorial\n"
    )


def sign_in_html(link: str) -> str:
    href = escape(link, quote=True)
    return (
        '<!doctype html><html lang="fr"><body>'
        "<p>Bonjour,</p>"
        "<p>Pour vous connecter à l’espace du réseau des cybercentres, ouvrez ce lien\u00a0:</p>"
        f'<p><a href="{href}">Me connecter</a></p>'
        "<p>Il est valable 15\u00a0minutes et ne sert qu’une fois. Si vous n’avez pas demandé "
        "à vous connecter, ignorez ce message\u00a0: sans ce lien, personne ne peut se "
        "connecter à votre place.</p>"
        "<p>Le Centre de ressources numériques territorial</p>"
        "</body></html>"
    )
