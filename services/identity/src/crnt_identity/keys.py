"""Signing keys: Ed25519, generated and kept by identity, the private half encrypted in its
database (PKCS #8 with ``IDENTITY_KEY_PASSPHRASE``) and never logged.

Rotation without downtime: a new key is announced on Kafka ``key_announce_seconds`` before it
signs, so that every service knows it before the first token it signs; the previous key is
retired (announced as such) once the last token it signed has expired.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

from crnt_shared.auth import LEEWAY_SECONDS, new_signing_key, public_jwk
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crnt_identity.repository import SigningKey


def generate(passphrase: str, now: datetime, signs_from: datetime) -> SigningKey:
    private_key = new_signing_key()
    kid = f"{now:%Y%m%d}-{uuid4().hex[:12]}"
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    return SigningKey(kid, pem, public_jwk(private_key, kid), now, signs_from, None)


def signing_key(keys: list[SigningKey], now: datetime) -> SigningKey | None:
    """The newest key that signs by now and is not retired."""
    usable = [k for k in keys if k.retired_at is None and k.signs_from <= now]
    return max(usable, key=lambda k: k.signs_from, default=None)


def needs_new_key(keys: list[SigningKey], now: datetime, rotation: timedelta) -> bool:
    live = [k for k in keys if k.retired_at is None]
    if not live:
        return True
    newest = max(live, key=lambda k: k.signs_from)
    return newest.created_at + rotation <= now


def to_retire(keys: list[SigningKey], now: datetime, token_seconds: int) -> list[SigningKey]:
    """Keys superseded by a newer signing key for longer than a token lives."""
    current = signing_key(keys, now)
    if current is None:
        return []
    grace = timedelta(seconds=token_seconds + LEEWAY_SECONDS)
    return [
        k
        for k in keys
        if k.retired_at is None
        and k.signs_from < current.signs_from
        and current.signs_from + grace <= now
    ]


@dataclass
class Vault:
    """Decrypted private keys, in memory only, by kid."""

    passphrase: str
    _keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)

    def private(self, key: SigningKey) -> Ed25519PrivateKey:
        if key.kid not in self._keys:
            loaded = serialization.load_pem_private_key(key.private_pem, self.passphrase.encode())
            if not isinstance(loaded, Ed25519PrivateKey):
                raise TypeError(f"signing key {key.kid} is not an Ed25519 key")
            self._keys[key.kid] = loaded
        return self._keys[key.kid]
