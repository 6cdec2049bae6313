"""Mail figures: deliveries sent by the notifications sender to a loopback SMTP server.

The same due deliveries (a welcome-sized French mail, text and HTML) are sent twice by the
service's own :class:`DeliverySender` over the real database, once with the mailer as it is
(messages written as bytes, a pool of reused connections) and once with the previous way
(``EmailMessage`` flattened by the standard library, ``aiosmtplib.send()`` opening a connection
per mail), kept here only as the baseline. Then the pickup: welcomes written one a transaction
at ``BENCH_PICKUP_RATE`` a second (50), each commit waking the sender as the consumer's does,
timed from the commit to the SMTP server's 250 (percentiles in ms).

The logs are the service's (JSON, on stderr): the sender's lines are part of its work.
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
from typing import Any

import aiosmtplib
import asyncpg
from crnt_notifications.domain import Category, Status
from crnt_notifications.handlers import Notifier
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.mailer import Mailer, OutgoingMail
from crnt_notifications.repository import Delivery, NewDelivery, Repository
from crnt_notifications.runtime import MIGRATIONS
from crnt_notifications.settings import NotificationsSettings
from crnt_notifications.templates import Renderer
from crnt_notifications.workers import DeliverySender
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.events import utcnow
from crnt_shared.logging import configure_logging
from crnt_shared.retry import Backoff
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN

from bench.e2e import percentile
from bench.memory import peak_rss_mib
from bench.polling import drained
from tests.databases import fresh_database

MAILS = int(os.environ.get("BENCH_MAILS", "3000"))
#: Welcomes written one by one, and how many a second, for the time from commit to 250.
PICKUP_MAILS = int(os.environ.get("BENCH_PICKUP_MAILS", "500"))
PICKUP_RATE = float(os.environ.get("BENCH_PICKUP_RATE", "50"))

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


def _welcome(email: str, links: UnsubscribeLinks) -> NewDelivery:
    """A welcome-sized delivery to ``email``, due now."""
    delivery_id = uuid.uuid4()
    return NewDelivery(
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


async def _queue(pool: asyncpg.Pool, count: int, links: UnsubscribeLinks) -> None:
    async with UnitOfWork(pool) as uow:
        repository = Repository(uow.connection)
        for n in range(count):
            await repository.insert_deliveries([_welcome(f"animateur-{n}@arques.example", links)])
        await uow.commit()


def _sender(
    pool: asyncpg.Pool,
    settings: NotificationsSettings,
    notifier: Notifier,
    build: Callable[[Delivery], Any],
    send: Callable[[Any], Awaitable[None]],
) -> DeliverySender:
    return DeliverySender(
        unit_of_work=lambda: UnitOfWork(pool, repository_factory=Repository),
        notifier=notifier,
        build=build,
        send=send,
        backoff=Backoff(1.0, 5.0),
        max_attempts=3,
        poll_seconds=1.0,
        topic="bench.notifications",
        concurrency=settings.sender_concurrency,
    )


async def _send_all(
    pool: asyncpg.Pool, settings: NotificationsSettings, notifier: Notifier, previous: bool
) -> float:
    mailer = Mailer(settings)
    build, send = (
        (_previous_build(settings), _previous_send(settings))
        if previous
        else (mailer.build, mailer.send)
    )
    sender = _sender(pool, settings, notifier, build, send)
    unsent = "SELECT count(*) FROM deliveries WHERE status <> 'sent'"
    elapsed = await drained(pool, sender, unsent, every=0.05)
    await mailer.close()
    return elapsed


async def _pickup(
    pool: asyncpg.Pool, settings: NotificationsSettings, notifier: Notifier, links: UnsubscribeLinks
) -> list[float]:
    """Seconds from the commit of each welcome, written one a transaction at ``PICKUP_RATE``
    a second (as the consumer writes them, its commit waking the sender), to the SMTP
    server's 250 for it."""
    mailer = Mailer(settings)
    committed: dict[str, float] = {}
    accepted: dict[str, float] = {}
    every_one = asyncio.Event()

    async def send(mail: OutgoingMail) -> None:
        await mailer.send(mail)
        accepted[mail.recipient] = time.perf_counter()
        if len(accepted) == PICKUP_MAILS:
            every_one.set()

    sender = _sender(pool, settings, notifier, mailer.build, send)
    sender.start()
    try:
        started = time.perf_counter()
        for n in range(PICKUP_MAILS):
            await asyncio.sleep(max(0.0, started + n / PICKUP_RATE - time.perf_counter()))
            email = f"bienvenue-{n}@arques.example"
            async with UnitOfWork(
                pool, repository_factory=Repository, on_commit=[sender.wake]
            ) as uow:
                await uow.repository.insert_deliveries([_welcome(email, links)])
                await uow.commit()
            committed[email] = time.perf_counter()
        await every_one.wait()
    finally:
        await sender.stop()
        await mailer.close()
    return [accepted[email] - at for email, at in committed.items()]


async def measure(admin_url: str) -> dict[str, float]:
    """Mails per second, now and before, over the same database and SMTP server, and the
    SMTP server's peak resident memory."""
    configure_logging("notifications")
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
            async with pool.acquire() as connection:
                await connection.execute("TRUNCATE deliveries CASCADE")
            pickup = await _pickup(pool, settings, notifier, links)
            rates["pickup_p50_ms"] = percentile(pickup, 50) * 1000
            rates["pickup_p99_ms"] = percentile(pickup, 99) * 1000
            rates["sink_rss_mib"] = peak_rss_mib(sink.pid)
            return rates
        finally:
            await pool.close()
            sink.terminate()
            await sink.wait()


if __name__ == "__main__":
    result = asyncio.run(measure(os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]))
    print({label: round(value, 1) for label, value in result.items()})
