"""The sign-in mail, sent by identity itself over SMTP, in the background of the request (so
that the answer takes as long for a known address as for an unknown one).

The secret lives in memory until the mail is handed to the server: it is never written to the
database, an event or a log line. A mail that cannot be sent after a few attempts is dropped,
logged without its content: the person asks for a new link.
"""

import asyncio
import contextlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlencode

import aiosmtplib
import structlog
from crnt_shared.events import utcnow
from crnt_shared.retry import Backoff

from crnt_identity.domain import SIGN_IN_SUBJECT, sign_in_html, sign_in_text
from crnt_identity.settings import IdentitySettings

log = structlog.get_logger(__name__)

ATTEMPTS = 4
BACKOFF = Backoff(1.0, 10.0)
POLICY = SMTP.clone(max_line_length=998)


def sender_domain(address: str) -> str:
    _, at, domain = parseaddr(address)[1].rpartition("@")
    return domain if at and domain else "crnt.invalid"


class SignInMailer:
    def __init__(self, settings: IdentitySettings) -> None:
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    def link(self, secret: str) -> str:
        separator = "&" if "?" in self._settings.sign_in_url else "?"
        return f"{self._settings.sign_in_url}{separator}{urlencode({'jeton': secret})}"

    def build(self, address: str, secret: str) -> EmailMessage:
        link = self.link(secret)
        message = EmailMessage(policy=POLICY)
        message["From"] = self._settings.smtp_from
        message["To"] = address
        message["Subject"] = SIGN_IN_SUBJECT
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=sender_domain(self._settings.smtp_from))
        message["Content-Language"] = "fr"
        message["Auto-Submitted"] = "auto-generated"
        message["X-Crnt-Kind"] = "sign_in"
        message.set_content(sign_in_text(link), cte="quoted-printable")
        message.add_alternative(sign_in_html(link), subtype="html", cte="quoted-printable")
        return message

    def send_later(self, address: str, secret: str) -> None:
        task = asyncio.create_task(self._send(self.build(address, secret)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, message: EmailMessage) -> None:
        settings = self._settings
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await aiosmtplib.send(
                    message.as_bytes(policy=POLICY),
                    sender=parseaddr(settings.smtp_from)[1],
                    recipients=[str(message["To"])],
                    **settings.smtp_options(),
                )
                log.info("sign-in mail sent", message_id=str(message["Message-ID"]))
                return
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                # The error's class only: an SMTP reply could quote the message.
                log.warning("sign-in mail not sent", attempt=attempt, error=type(error).__name__)
                await asyncio.sleep(BACKOFF.delay(attempt))
        log.error("sign-in mail dropped after retries", message_id=str(message["Message-ID"]))

    async def stop(self) -> None:
        """Let the mails under way finish for a moment, then cancel them."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=5.0)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
