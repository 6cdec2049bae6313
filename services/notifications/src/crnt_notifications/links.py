"""Signed links, with the service's secret: unsubscribe links and address confirmation links.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is a JSON
object, the signature its HMAC-SHA256 under a key derived from the secret for that use (an
unsubscribe token is never a confirmation token). Unsubscribe tokens (``{"e": email,
"c": category}``) do not expire: an unsubscribe link in an old email must still work.
Confirmation tokens (``{"a": application id, "e": email, "x": expiry}``) expire with the
application they confirm. Nothing is stored: the signature is the proof, so no secret ever
leaves this service (not in an event, not in the database but inside the mail itself).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from crnt_notifications.domain import Category, normalise_email


class InvalidToken(ValueError):
    """The token was not made by this service (tampered, truncated, or another secret)."""


class ExpiredToken(InvalidToken):
    """The token was made by this service but its time is over."""

    def __init__(self, message: str, expired_at: datetime) -> None:
        super().__init__(message)
        self.expired_at = expired_at


@dataclass(frozen=True)
class Unsubscription:
    email: str
    category: Category


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Signer:
    """Tokens of one use (``purpose``): a JSON payload and its signature under the use's key."""

    def __init__(self, secret: str, purpose: bytes) -> None:
        self._key = hashlib.sha256(purpose + b"\x00" + secret.encode()).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def seal(self, data: dict[str, object]) -> str:
        payload = _b64(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def open(self, token: str, refused: str) -> Any:
        """The payload of a token this key signed; else :class:`InvalidToken` (``refused``)."""
        payload, _, signature = token.partition(".")
        # Bytes, not str: compare_digest refuses non-ASCII text, and a link can be mangled.
        given = signature.encode("utf-8", "replace")
        if not payload or not given or not hmac.compare_digest(given, self._sign(payload).encode()):
            raise InvalidToken(refused)
        try:
            return json.loads(_unb64(payload))
        except ValueError as error:
            raise InvalidToken(refused) from error


class UnsubscribeLinks:
    def __init__(self, secret: str, public_base_url: str) -> None:
        self._signer = _Signer(secret, b"crnt-unsubscribe")
        self._base = public_base_url.rstrip("/")

    def token(self, email: str, category: Category) -> str:
        return self._signer.seal({"e": normalise_email(email), "c": category.value})

    def url(self, email: str, category: Category) -> str:
        return (
            f"{self._base}/api/v1/unsubscribe?{urlencode({'token': self.token(email, category)})}"
        )

    def verify(self, token: str) -> Unsubscription:
        data = self._signer.open(
            token, "the unsubscribe link is not valid: it may have been altered"
        )
        try:
            return Unsubscription(normalise_email(data["e"]), Category(data["c"]))
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidToken("the unsubscribe link is not valid") from error


@dataclass(frozen=True)
class ConfirmationRequest:
    application_id: UUID
    email: str
    expires_at: datetime


class ConfirmationLinks:
    """Links that confirm an address named in an anonymous application."""

    def __init__(self, secret: str, public_base_url: str) -> None:
        self._signer = _Signer(secret, b"crnt-confirmation")
        self._base = public_base_url.rstrip("/")

    def token(self, application_id: UUID, email: str, expires_at: datetime) -> str:
        return self._signer.seal(
            {
                "a": str(application_id),
                "e": normalise_email(email),
                "x": int(expires_at.timestamp()),
            }
        )

    def url(self, application_id: UUID, email: str, expires_at: datetime) -> str:
        return f"{self._base}/api/v1/confirmations/{self.token(application_id, email, expires_at)}"

    def verify(self, token: str, now: datetime) -> ConfirmationRequest:
        data = self._signer.open(
            token, "the confirmation link is not valid: it may have been cut or altered"
        )
        try:
            request = ConfirmationRequest(
                UUID(data["a"]),
                normalise_email(data["e"]),
                datetime.fromtimestamp(int(data["x"]), UTC),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidToken("the confirmation link is not valid") from error
        if now >= request.expires_at:
            raise ExpiredToken("the confirmation link has expired", request.expires_at)
        return request
