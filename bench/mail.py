"""Mail figures: deliveries sent by the notifications sender to a loopback SMTP server.

The same due deliveries (a welcome-sized French mail, text and HTML) are sent twice by the
service's own :class:`DeliverySender` over the real database, once with the mailer as it is
(messages written as bytes, a pool of reused connections) and once with the previous way
(``EmailMessage`` flattened by the standard library, ``aiosmtplib.send()`` opening a connection
per mail), kept here only as the baseline.
"""

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import aiosmtplib
import asyncpg
from crnt_notifications.domain import Category, Status
from crnt_notifications.handlers import Notifier
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.mailer import Mailer
from crnt_notifications.repository import Delivery, NewDelivery, Repository
from crnt_notifications.runtime import MIGRATIONS
from crnt_notifications.settings import NotificationsSettings
from crnt_notifications.templates import Renderer
from crnt_notifications.workers import DeliverySender
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.events import utcnow
from crnt_shared.retry import Backoff
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN

from bench.memory import peak_rss_mib
from bench.polling import polled
from tests.databases import fresh_database

MAILS = int(os.environ.get("BENCH_MAILS", "3000"))

TEXT = (
    "Bonjour Zoé,\n\nL’Espace numérique d’Arques a rejoint le réseau des espaces publics "
    "numériques du Pays de Saint-Omer. Vous en êtes l’animatrice : bienvenue !\n\n"
    + "Ce que le réseau vous apporte : des ateliers communs, des évènements, la formation "
    "des animateurs et du matériel partagé.\n" * 8 + "\nL’équipe du CRNT\n"
)
HTML = "<html><body>" + "".join(f"<p>{line}</p>\n" for line in TEXT.splitlines()) + "</body></html>"


def _previous_build(settings: NotificationsSettings) -> Callable[[Delivery], EmailMessage]:
    """The mailer's ``build`` before this change, for the baseline."""
    policy = SMTP.clone(max_line_length=998)

    def build(delivery: Delivery) -> EmailMessage:
        message = EmailMessage(policy=policy)
        message["From"] = settings.smtp_from
        message["To"] = delivery.recipient
        message["Subject"] = delivery.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = delivery.message_id
        message["Content-Language"] = "fr"
        message["Auto-Submitted"] = "auto-generated"
        message["X-Crnt-Delivery"] = str(delivery.id)
        message["X-Crnt-Kind"] = delivery.kind
        if delivery.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{delivery.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(delivery.body_text, cte="quoted-printable")
        message.add_alternative(delivery.body_html, subtype="html", cte="quoted-printable")
        return message

    return build


def _previous_send(settings: NotificationsSettings) -> Callable[[EmailMessage], Awaitable[None]]:
    policy = SMTP.clone(max_line_length=998)

    async def send(message: EmailMessage) -> None:
        await aiosmtplib.send(
            message.as_bytes(policy=policy),
            sender=parseaddr(settings.smtp_from)[1],
            recipients=[str(message["To"])],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=settings.smtp_timeout_seconds,
        )

    return send


async def _queue(pool: asyncpg.Pool, count: int, links: UnsubscribeLinks) -> None:
    async with UnitOfWork(pool) as uow:
        repository = Repository(uow.connection)
        for n in range(count):
            delivery_id = uuid.uuid4()
            email = f"animateur-{n}@arques.example"
            await repository.insert_deliveries(
                [
                    NewDelivery(
                        id=delivery_id,
                        event_id=uuid.uuid4(),
                        event_ids=[],
                        recipient=email,
                        kind="welcome",
                        category="membership",
                        centre_id=None,
                        subject="Bienvenue dans le réseau : Espace numérique d’Arques",
                        body_text=TEXT,
                        body_html=HTML,
                        unsubscribe_url=links.url(email, Category.NETWORK),
                        status=Status.PENDING,
                        message_id=f"<{delivery_id}@aud-stomer.example>",
                    )
                ]
            )
        await uow.commit()


async def _send_all(
    pool: asyncpg.Pool, settings: NotificationsSettings, notifier: Notifier, previous: bool
) -> float:
    mailer = Mailer(settings)
    build, send = (
        (_previous_build(settings), _previous_send(settings))
        if previous
        else (mailer.build, mailer.send)
    )
    sender = DeliverySender(
        unit_of_work=lambda: UnitOfWork(pool, repository_factory=Repository),
        notifier=notifier,
        build=build,  # type: ignore[arg-type]
        send=send,  # type: ignore[arg-type]
        backoff=Backoff(1.0, 5.0),
        max_attempts=3,
        poll_seconds=1.0,
        topic="bench.notifications",
        concurrency=settings.sender_concurrency,
    )
    started = time.perf_counter()
    sender.start()
    unsent = "SELECT count(*) FROM deliveries WHERE status <> 'sent'"
    await polled(pool, unsent, until=lambda left: left == 0, every=0.05)
    elapsed = time.perf_counter() - started
    await sender.stop()
    await mailer.close()
    return elapsed


async def measure(admin_url: str) -> dict[str, float]:
    """Mails per second, now and before, over the same database and SMTP server, and the
    SMTP server's peak resident memory."""
    async with fresh_database(admin_url, "bench_mail") as url:
        sink = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.smtp_sink", stdout=asyncio.subprocess.PIPE
        )
        assert sink.stdout is not None
        smtp_port = int(await sink.stdout.readline())
        pool = await create_pool(url, max_size=8)
        try:
            async with pool.acquire() as connection:
                await migrate(
                    connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS]
                )
            settings = NotificationsSettings(
                _env_file=None,
                database_url=url,
                agency_token=AGENCY_TOKEN,
                copil_token=COPIL_TOKEN,
                env="test",
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_from="Réseau CRNT <crnt@aud-stomer.example>",
            )
            links = UnsubscribeLinks("bench-unsubscribe-secret", "http://127.0.0.1:8004")
            notifier = Notifier(
                renderer=Renderer(),
                links=links,
                confirmations=ConfirmationLinks(
                    "bench-unsubscribe-secret", "http://127.0.0.1:8004"
                ),
                agency_emails=(),
                window=timedelta(seconds=0),
                message_domain="aud-stomer.example",
            )
            rates: dict[str, float] = {}
            for label, previous in (("previous", True), ("now", False)):
                async with pool.acquire() as connection:
                    await connection.execute("TRUNCATE deliveries CASCADE")
                await _queue(pool, MAILS, links)
                rates[label] = MAILS / await _send_all(pool, settings, notifier, previous)
            rates["sink_rss_mib"] = peak_rss_mib(sink.pid)
            return rates
        finally:
            await pool.close()
            sink.terminate()
            await sink.wait()


if __name__ == "__main__":
    result = asyncio.run(measure(os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]))
    print({label: round(rate) for label, rate in result.items()})
