"""Signed unsubscribe links: who opts out of what, signed with the service's secret.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is the JSON
``{"e": email, "c": category}``, the signature its HMAC-SHA256. Tokens do not expire: an
unsubscribe link in an old email must still work.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from crnt_notifications.domain import Category, normalise_email


class InvalidToken(ValueError):
    """The token was not made by this service (tampered, truncated, or another secret)."""


@dataclass(frozen=True)
class Unsubscription:
    email: str
    category: Category


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeLinks:
    def __init__(self, secret: str, public_base_url: str) -> None:
        self._key = hashlib.sha256(b"crnt-unsubscribe\x00" + secret.encode()).digest()
        self._base = public_base_url.rstrip("/")

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def token(self, email: str, category: Category) -> str:
        payload = _b64(
            json.dumps(
                {"e": normalise_email(email), "c": category.value},
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def url(self, email: str, category: Category) -> str:
        return (
            f"{self._base}/api/v1/unsubscribe?{urlencode({'token': self.token(email, category)})}"
        )

    def verify(self, token: str) -> Unsubscription:
        payload, _, signature = token.partition(".")
        # Bytes, not str: compare_digest refuses non-ASCII text, and a link can be mangled.
        given = signature.encode("utf-8", "replace")
        if not payload or not given or not hmac.compare_digest(given, self._sign(payload).encode()):
            raise InvalidToken("the unsubscribe link is not valid: it may have been altered")
        try:
            data = json.loads(_unb64(payload))
            return Unsubscription(normalise_email(data["e"]), Category(data["c"]))
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidToken("the unsubscribe link is not valid") from error
