"""Emails over SMTP with aiosmtplib, and what a failure means for a retry."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import aiosmtplib
from crnt_shared.events import utcnow

from crnt_notifications.repository import Delivery
from crnt_notifications.settings import NotificationsSettings


@dataclass(frozen=True)
class SendFailure:
    """``permanent``: the server refused the email (5xx), retrying will not help.
    ``unreachable``: the server could not be talked to at all (down, refused, timed out)."""

    permanent: bool
    unreachable: bool
    reason: str


def classify(error: BaseException) -> SendFailure:
    """Temporary (connection refused, timeouts, 4xx) or permanent (5xx)."""
    reason = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        return SendFailure(bool(codes) and all(code >= 500 for code in codes), False, reason)
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return SendFailure(False, True, reason)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return SendFailure(500 <= error.code < 600, False, reason)
    if isinstance(error, OSError | TimeoutError):
        return SendFailure(False, True, reason)
    return SendFailure(False, False, reason)


#: CRLF line ends, and headers folded only past RFC 5322's hard limit: a header without spaces
#: (the List-Unsubscribe URL) is never turned into encoded words, which would break it.
POLICY = SMTP.clone(max_line_length=998)


def sender_domain(address: str) -> str:
    """The domain of the From address, for Message-IDs (``crnt@example.org`` → ``example.org``)."""
    _, at, domain = address.rpartition("@")
    return (domain.strip(" >") if at else "") or "crnt.invalid"


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self._settings = settings

    def build(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage(policy=POLICY)
        message["From"] = self._settings.smtp_from
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
        # Quoted-printable: 7-bit clean, whatever the server says about 8BITMIME.
        message.set_content(delivery.body_text, cte="quoted-printable")
        message.add_alternative(delivery.body_html, subtype="html", cte="quoted-printable")
        return message

    async def send(self, message: EmailMessage) -> None:
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        # Flattened here: aiosmtplib would refold headers at 78 columns with its own policy.
        await aiosmtplib.send(
            message.as_bytes(policy=POLICY),
            sender=parseaddr(settings.smtp_from)[1],
            recipients=[str(message["To"])],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
