"""One caught message, parsed once on arrival, in the shapes of Mailpit's API v1 (its summary in
a list, its detail) and matched against Mailpit's search syntax (``to:``, ``subject:``, quotes,
``-`` to exclude)."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import functools
import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

Address = dict[str, str]
JSON = dict[str, Any]

_SNIPPET_LENGTH = 250
_SEARCH_TERM = re.compile(r'([-!]?)(?:([A-Za-z-]+):)?(?:"([^"]*)"|(\S+))')


def _clean(value: str) -> str:
    """Turn surrogate-escaped raw 8-bit bytes (UTF-8 headers without RFC 2047) back into text."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li|h[1-6])\s*>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _canonical_header(name: str) -> str:
    """Go's textproto canonical form (``Message-Id``), which is what Mailpit's API returns."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _part_text(part: MIMEPart | None) -> str:
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, UnicodeError, ValueError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return _clean(text).replace("\r\n", "\n")


def _addresses(msg: EmailMessage, *names: str) -> list[Address]:
    result: list[Address] = []
    for name in names:
        for value in msg.get_all(name, []):
            parsed = getattr(value, "addresses", None)
            pairs = (
                [(a.display_name, a.addr_spec) for a in parsed]
                if parsed is not None
                else getaddresses([str(value)])
            )
            result.extend({"Name": _clean(n), "Address": _clean(a)} for n, a in pairs if a)
    return result


@dataclasses.dataclass(frozen=True)
class CaughtMessage:
    """One received message, parsed once on arrival."""

    id: str
    raw: bytes
    created: datetime
    envelope_from: str
    envelope_to: tuple[str, ...]
    message_id: str
    sender: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    subject: str
    date: datetime
    text: str
    html: str
    headers: dict[str, list[str]]
    attachments: list[JSON]

    @classmethod
    def parse(cls, id_: str, raw: bytes, mail_from: str, rcpt_tos: Iterable[str]) -> CaughtMessage:
        created, rcpt_tos = datetime.now(UTC), tuple(rcpt_tos)
        msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        headers: dict[str, list[str]] = {}
        for name, value in msg.raw_items():
            headers.setdefault(_canonical_header(name), []).append(_clean(str(value)).strip())
        try:
            date = parsedate_to_datetime(str(msg["Date"]))
            date = date if date.tzinfo else date.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            date = created
        to, cc = _addresses(msg, "To"), _addresses(msg, "Cc")
        listed = {a["Address"].casefold() for a in to + cc}
        bcc = _addresses(msg, "Bcc") + [
            {"Name": "", "Address": r} for r in rcpt_tos if r.casefold() not in listed
        ]
        text, markup = (_part_text(msg.get_body(preferencelist=(t,))) for t in ("plain", "html"))
        attachments = [
            {
                "PartID": str(index),
                "FileName": _clean(part.get_filename() or ""),
                "ContentType": part.get_content_type(),
                "Size": len(part.get_payload(decode=True) or b""),
            }
            for index, part in enumerate(msg.walk())
            if part.get_content_disposition() == "attachment"
        ]
        return cls(
            id=id_,
            raw=raw,
            created=created,
            envelope_from=mail_from,
            envelope_to=rcpt_tos,
            message_id=_clean(str(msg.get("Message-ID", ""))).strip().strip("<>"),
            sender=(_addresses(msg, "From") or [{"Name": "", "Address": mail_from}])[0],
            to=to,
            cc=cc,
            bcc=bcc,
            reply_to=_addresses(msg, "Reply-To"),
            subject=_clean(str(msg.get("Subject", ""))),
            date=date,
            text=text or _html_to_text(markup),
            html=markup,
            headers=headers,
            attachments=attachments,
        )

    def snippet(self) -> str:
        text = " ".join((self.text or _html_to_text(self.html)).split())
        return text if len(text) <= _SNIPPET_LENGTH else text[:_SNIPPET_LENGTH] + "..."

    def summary(self) -> JSON:
        """The shape of one entry of Mailpit's ``messages`` list."""
        return {
            "ID": self.id,
            "MessageID": self.message_id,
            "Read": False,
            "From": self.sender,
            "To": self.to,
            "Cc": self.cc,
            "Bcc": self.bcc,
            "ReplyTo": self.reply_to,
            "Subject": self.subject,
            "Created": rfc3339(self.created),
            "Tags": [],
            "Size": len(self.raw),
            "Attachments": len(self.attachments),
            "Snippet": self.snippet(),
        }

    def detail(self) -> JSON:
        """The shape of Mailpit's ``GET /api/v1/message/{ID}``."""
        return {
            "ID": self.id,
            "MessageID": self.message_id,
            "From": self.sender,
            "To": self.to,
            "Cc": self.cc,
            "Bcc": self.bcc,
            "ReplyTo": self.reply_to,
            "ReturnPath": self.envelope_from,
            "Subject": self.subject,
            "Date": rfc3339(self.date),
            "Tags": [],
            "Text": self.text,
            "HTML": self.html,
            "Size": len(self.raw),
            "Inline": [],
            "Attachments": self.attachments,
        }

    def matches(self, query: str) -> bool:
        """Mailpit-style search: ANDed case-insensitive substrings; ``-`` or ``!`` negates."""
        fields = self._search_fields
        for negate, field, quoted, bare in _SEARCH_TERM.findall(query):
            value, field = (quoted or bare).casefold(), field.casefold()
            if field and field not in fields:
                value, field = f"{field}:{value}", ""  # unknown prefix: plain text
            if (value in fields[field]) == bool(negate):
                return False
        return True

    @functools.cached_property
    def _search_fields(self) -> dict[str, str]:
        def fmt(*addresses: Address) -> str:
            return " ".join(f"{a['Name']} <{a['Address']}>" for a in addresses)

        fields = {
            "to": fmt(*self.to, *self.cc, *({"Name": "", "Address": r} for r in self.envelope_to)),
            "from": fmt(self.sender, {"Name": "", "Address": self.envelope_from}),
            "cc": fmt(*self.cc),
            "bcc": fmt(*self.bcc),
            "reply-to": fmt(*self.reply_to),
            "subject": self.subject,
            "message-id": self.message_id,
        }
        fields[""] = " ".join([*fields.values(), self.text, _html_to_text(self.html)])
        fields["has"] = "attachment attachments" if self.attachments else ""
        return {name: text.casefold() for name, text in fields.items()}
