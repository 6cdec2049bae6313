"""The mailer against a real SMTP server on 127.0.0.1: one connection for many mails, messages
that any mail reader parses back to what was meant, a stable Message-ID per delivery."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from crnt_notifications.mailer import Mailer, encoded_header
from crnt_notifications.repository import Delivery
from crnt_notifications.settings import NotificationsSettings
from crnt_shared.events import utcnow
from crnt_shared.testing import service_settings

from services.notifications.tests.notifications_testkit import LocalSmtpServer


class CountingServer(LocalSmtpServer):
    """Counts the connections it is opened and keeps what it received; closes a connection
    idle for ``idle_timeout`` seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.idle_timeout = 300.0
        self.connections = 0

    def protocol(self) -> SMTP:
        self.connections += 1
        return SMTP(self, loop=asyncio.get_running_loop(), timeout=self.idle_timeout)


@pytest.fixture
async def server() -> AsyncIterator[CountingServer]:
    async with CountingServer() as counting:
        yield counting


def _settings(port: int, concurrency: int = 2) -> NotificationsSettings:
    """The mailer's settings (the database and the broker are not reached)."""
    return service_settings(
        NotificationsSettings,
        "postgresql://crnt@127.0.0.1/unused",
        "127.0.0.1:9092",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="Réseau CRNT <crnt@aud-stomer.example>",
        smtp_timeout_seconds=5.0,
        sender_concurrency=concurrency,
    )


def _delivery(subject: str, text: str, html: str, **changes: Any) -> Delivery:
    delivery_id = uuid.uuid4()
    now = utcnow()
    fields: dict[str, Any] = {
        "id": delivery_id,
        "event_id": uuid.uuid4(),
        "event_ids": [],
        "recipient": "anim@arques.example",
        "kind": "welcome",
        "category": "membership",
        "centre_id": None,
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "unsubscribe_url": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "message_id": f"<{delivery_id}@aud-stomer.example>",
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
    }
    return Delivery(**(fields | changes))


def _parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_many_mails_go_over_one_reused_connection(server: CountingServer) -> None:
    mailer = Mailer(_settings(server.port, concurrency=2))
    try:
        for n in range(30):
            await mailer.send(
                mailer.build(_delivery(f"Bienvenue n° {n}", "Bonjour", "<p>Bonjour</p>"))
            )
        await asyncio.gather(
            *(
                mailer.send(mailer.build(_delivery("Ensemble", "Bonjour", "<p>Bonjour</p>")))
                for _ in range(20)
            )
        )
    finally:
        await mailer.close()
    assert len(server.received) == 50
    assert server.connections <= 2


async def test_a_connection_the_server_closed_while_idle_is_opened_again(
    server: CountingServer,
) -> None:
    server.idle_timeout = 0.3
    mailer = Mailer(_settings(server.port, concurrency=1))
    try:
        await mailer.send(mailer.build(_delivery("Un", "Bonjour", "<p>Bonjour</p>")))
        await asyncio.sleep(0.8)  # the server said 421 and hung up meanwhile
        await mailer.send(mailer.build(_delivery("Deux", "Bonjour", "<p>Bonjour</p>")))
    finally:
        await mailer.close()
    subjects = [_parse(envelope.original_content or b"")["Subject"] for envelope in server.received]
    assert subjects == ["Un", "Deux"]
    assert server.connections == 2


async def test_what_a_mail_reader_parses_back_is_what_was_meant(server: CountingServer) -> None:
    text = "Bonjour Zoé,\n\nL’Espace numérique d’Arques = membre.\n.\nUne ligne " + "x" * 300
    html = "<p>Bonjour Zoé,</p>\n<p>L’Espace numérique d’Arques = membre.</p>"
    # Line breaks of every kind in a centre's name: the subject stays one line.
    subject = "Bienvenue à l’EPN\u2028d’Arques\x0bet\x0cde Saint-Omer\x85 — " + "é" * 60
    url = "http://notifications.test/api/v1/unsubscribe/" + "t" * 200
    delivery = _delivery(subject, text, html, unsubscribe_url=url)
    mailer = Mailer(_settings(server.port))
    try:
        first, again = mailer.build(delivery), mailer.build(delivery)
        await mailer.send(first)
    finally:
        await mailer.close()
    message = _parse(server.received[0].original_content or b"")
    assert message["Subject"] == ("Bienvenue à l’EPN d’Arques et de Saint-Omer — " + "é" * 60)
    assert message["From"].addresses[0].display_name == "Réseau CRNT"
    assert message["To"] == "anim@arques.example"
    assert message["Message-ID"] == delivery.message_id
    assert _parse(again.data)["Message-ID"] == delivery.message_id  # stable across attempts
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "fr"
    assert message["X-Crnt-Delivery"] == str(delivery.id)
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == text
    html_part = message.get_body(("html",))
    assert html_part is not None
    assert html_part.get_content().replace("\r\n", "\n") == html
    raw = server.received[0].original_content or b""
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_a_header_stays_one_line_and_plain_ascii_is_kept_as_is() -> None:
    assert encoded_header("Bienvenue") == "Bienvenue"
    assert encoded_header("EPN\r\nBcc: intrus@example.org") == "EPN Bcc: intrus@example.org"
