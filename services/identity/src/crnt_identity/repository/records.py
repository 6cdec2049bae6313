"""What identity's tables hold beyond its domain's people: sessions and signing keys."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_jwk: dict[str, Any]
    created_at: datetime
    signs_from: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class Session:
    id: UUID
    person_id: UUID
    expires_at: datetime
    ended_at: datetime | None
