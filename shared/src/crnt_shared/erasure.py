"""Erasing a person across services (RGPD, right to erasure) without naming them on Kafka.

The registry's ``fr.crnt.registry.person.erased.v1`` carries the animator's id and a salted
digest of the address, never the address: SHA-256 over a random per-event salt followed by the
address (trimmed, lower case). A consumer finds its copies by the id where it keeps one, and by
recomputing the digest over the addresses it holds (``digest_matches``, in SQL) where it does
not (a preference, a delivery to someone removed since). The salt makes every event's digest
different: the topic holds no stable identifier of the address to link or look up in a table;
someone who already knows an address can still test it, one guess per event, which is why the
event also stays only as long as the topic's retention.
"""

import hashlib
import secrets
from collections.abc import Iterable
from uuid import UUID

from asyncpg import Connection

#: What a pseudonymised person is called where a name must remain.
ERASED_NAME = "Personne effacée"
#: RFC 2606: ``.invalid`` never resolves, so a pseudonym can never be mailed.
ERASED_DOMAIN = "erased.invalid"


def erased_address(key: UUID) -> str:
    """A unique, undeliverable stand-in for an address (unique keys stay unique)."""
    return f"{key}@{ERASED_DOMAIN}"


def new_salt() -> str:
    return secrets.token_hex(16)


def address_digest(email: str, salt: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + email.strip().lower().encode()).hexdigest()


def digest_matches(column: str, salt: str, digest: str) -> str:
    """A SQL condition: ``column`` (an address) has the digest ``digest`` under ``salt`` (both
    query parameters such as ``$2``), computed as :func:`address_digest` does."""
    return (
        f"encode(sha256(decode({salt}, 'hex') || convert_to(lower(btrim({column})), 'UTF8')),"
        f" 'hex') = {digest}"
    )


async def forget_published_events(connection: Connection, addresses: Iterable[str]) -> int:
    """Delete the published outbox rows whose payload names one of ``addresses`` (the events
    themselves are on Kafka, kept as long as the topic's retention); rows not yet published
    stay, so that nothing is lost. Returns how many went."""
    needles = sorted({address for address in addresses if address})
    if not needles:
        return 0
    deleted = await connection.fetch(
        "DELETE FROM outbox WHERE published_at IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM unnest($1::text[]) AS n(address)"
        " WHERE position(lower(n.address) IN lower(convert_from(payload, 'UTF8'))) > 0)"
        " RETURNING id",
        needles,
    )
    return len(deleted)
