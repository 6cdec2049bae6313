"""Erasing a person (RGPD): the animator, the address's preferences and confirmations are
forgotten, its deliveries pseudonymised (recipient, subject and bodies; one still waiting is
suppressed), the mails to others that named the address blanked, and the published events that
named it forgotten. Retention pseudonymises the settled deliveries the same way.

The address is found by the animator id (the read model) and by the event's salted digest,
recomputed over the addresses held: a preference or a delivery may outlive the animator's row."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from crnt_shared.db import Connection
from crnt_shared.erasure import ERASED_DOMAIN, digest_matches, forget_published_events
from crnt_shared.retention import BATCH, Purge

from crnt_notifications.repository.tables import Tables

_ADDRESSES = f"""
SELECT email AS address FROM animators WHERE id = $1
UNION SELECT email FROM animators WHERE {digest_matches("email", "$2", "$3")}
UNION SELECT email FROM preferences WHERE {digest_matches("email", "$2", "$3")}
UNION SELECT email FROM address_confirmations WHERE {digest_matches("email", "$2", "$3")}
UNION SELECT recipient FROM deliveries WHERE {digest_matches("recipient", "$2", "$3")}
"""

#: What a delivery keeps once its person is erased or its retention is over: its kind, category,
#: dates, status and events, so that the counts and the "sent once" guarantee hold.
PSEUDONYMISE_DELIVERIES = f"""
UPDATE deliveries SET
    recipient = id::text || '@{ERASED_DOMAIN}',
    subject = '', body_text = '', body_html = '', unsubscribe_url = NULL, last_error = NULL,
    status = CASE WHEN status IN ('pending', 'retrying') THEN 'suppressed' ELSE status END,
    next_attempt_at = NULL, updated_at = now()
"""


@dataclass(frozen=True)
class Erased:
    """How much an erasure touched (counts only: it never names the address)."""

    addresses: int
    deliveries: int
    mentions: int
    published_events_forgotten: int


def _count(status: str) -> int:
    """The row count of a command's status (``UPDATE 3``)."""
    return int(status.split()[-1])


class Erasure(Tables):
    async def erase_person(self, animator_id: UUID, salt: str, email_digest: str) -> Erased:
        connection = self.connection
        rows = await connection.fetch(_ADDRESSES, animator_id, salt, email_digest)
        addresses = sorted({row["address"] for row in rows})
        lowered = sorted({address.lower() for address in addresses})
        await connection.execute(
            "DELETE FROM animators WHERE id = $1 OR lower(email) = ANY($2::text[])",
            animator_id,
            lowered,
        )
        await connection.execute(
            "DELETE FROM preferences WHERE lower(email) = ANY($1::text[])", lowered
        )
        await connection.execute(
            "DELETE FROM address_confirmations WHERE lower(email) = ANY($1::text[])", lowered
        )
        deliveries = await connection.execute(
            PSEUDONYMISE_DELIVERIES + " WHERE recipient = ANY($1::text[])", addresses
        )
        # A mail to someone else (the agency's notice of an application) may name the address.
        mentions = await connection.execute(
            "UPDATE deliveries SET subject = '', body_text = '', body_html = '', last_error = NULL,"
            " status = CASE WHEN status IN ('pending', 'retrying') THEN 'suppressed'"
            " ELSE status END, next_attempt_at = NULL, updated_at = now()"
            " WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS a(address)"
            "  WHERE position(a.address IN lower(subject || body_text || body_html)) > 0)",
            lowered,
        )
        forgotten = await forget_published_events(connection, addresses)
        return Erased(len(addresses), _count(deliveries), _count(mentions), forgotten)


def delivery_purge(retention: timedelta, batch: int = BATCH) -> Purge:
    """Pseudonymise, as an erasure does, the deliveries created more than ``retention`` ago
    whose fate is settled (sent, failed or suppressed): one still being tried is kept."""

    async def purge(connection: Connection, now: datetime) -> int:
        result = await connection.execute(
            PSEUDONYMISE_DELIVERIES + " WHERE id IN (SELECT id FROM deliveries"
            f" WHERE recipient NOT LIKE '%@{ERASED_DOMAIN}' AND created_at < $1"
            " AND status IN ('sent', 'failed', 'suppressed') ORDER BY created_at LIMIT $2)",
            now - retention,
            batch,
        )
        return _count(result)

    return purge
