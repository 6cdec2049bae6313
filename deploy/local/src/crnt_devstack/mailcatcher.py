"""In-memory mail catcher: an SMTP sink plus the subset of Mailpit's HTTP API that tests use.

Docker users get Mailpit; machines without Docker run this instead.  Paths and JSON field names
follow Mailpit's API v1 (``/api/v1/messages``, ``/api/v1/message/{ID}``, ``.../headers``,
``.../raw``, ``/api/v1/search``, ``DELETE /api/v1/messages``, ``/livez``) so the same test code
works against both.  ``{ID}`` may be ``latest``.  SMTP accepts every message and any AUTH
PLAIN/LOGIN credentials; STARTTLS is not offered.  Messages are kept in memory only.

People read the mails in a browser: ``/`` lists them (``?q=`` searches like the API),
``/view/{ID}`` shows one with its links clickable, and ``/view/{ID}.html`` its HTML part, shown
in a sandboxed frame (no script, nothing fetched elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import email
import email.policy
import functools
import html
import itertools
import logging
import re
import signal
import socket
import sys
import weakref
from collections.abc import Generator, Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses, parsedate_to_datetime
from typing import Annotated, Any

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from fastapi import Body, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

log = logging.getLogger("crnt.mailcatcher")

Address = dict[str, str]
JSON = dict[str, Any]
Limit = Annotated[int, Query(ge=1)]
Start = Annotated[int, Query(ge=0)]

_SNIPPET_LENGTH = 250
_SEARCH_TERM = re.compile(r'([-!]?)(?:([A-Za-z-]+):)?(?:"([^"]*)"|(\S+))')


def _clean(value: str) -> str:
    """Turn surrogate-escaped raw 8-bit bytes (UTF-8 headers without RFC 2047) back into text."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _rfc3339(moment: datetime) -> str:
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
            "Created": _rfc3339(self.created),
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
            "Date": _rfc3339(self.date),
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


class DeleteRequest(BaseModel):
    ids: list[str] = Field(default_factory=list, alias="IDs")


class _UvicornServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals belong to whoever owns the event loop, not to uvicorn


def _bind(host: str, port: int) -> socket.socket:
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    return AuthResult(success=True, auth_data=auth_data)


class MailCatcher:
    """SMTP + HTTP in the running event loop.  Port 0 picks a free port (read it after start)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 1025,
        http_port: int = 8025,
        max_messages: int = 5000,
    ) -> None:
        self.host, self.smtp_port, self.http_port = host, smtp_port, http_port
        self.max_messages = max_messages
        self._messages: dict[str, CaughtMessage] = {}
        self._ids = itertools.count(1)
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._smtp_server: asyncio.Server | None = None
        self._http_server: _UvicornServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self.app = self._build_app()

    @property
    def http_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.http_port}"

    @property
    def messages(self) -> list[CaughtMessage]:
        """Stored messages, oldest first."""
        return list(self._messages.values())

    def add(self, raw: bytes, mail_from: str = "", rcpt_tos: Iterable[str] = ()) -> CaughtMessage:
        message_id = str(next(self._ids))
        try:
            message = CaughtMessage.parse(message_id, raw, mail_from, rcpt_tos)
        except Exception:
            log.exception("could not parse message %s; storing it unparsed", message_id)
            message = CaughtMessage.parse(message_id, b"\r\n" + raw, mail_from, rcpt_tos)
            message = dataclasses.replace(message, raw=raw)
        self._messages[message_id] = message
        while len(self._messages) > self.max_messages:
            del self._messages[next(iter(self._messages))]
        log.info(
            "received ID=%s from=%s to=%s subject=%r size=%d",
            message.id,
            mail_from,
            ",".join(message.envelope_to),
            message.subject,
            len(raw),
        )
        return message

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        self.add(
            raw if isinstance(raw, bytes) else raw.encode(),
            envelope.mail_from or "",
            envelope.rcpt_tos,
        )
        return "250 Message accepted for delivery"

    def _smtp_session(self) -> SMTP:
        session = SMTP(
            self,
            hostname="crnt-mailcatcher",
            ident="crnt mail catcher",
            enable_SMTPUTF8=True,
            auth_require_tls=False,
            authenticator=_accept_any_login,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    async def start(self) -> None:
        smtp_sock = _bind(self.host, self.smtp_port)
        try:
            http_sock = _bind(self.host, self.http_port)
        except OSError:
            smtp_sock.close()
            raise
        self.smtp_port, self.http_port = smtp_sock.getsockname()[1], http_sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._smtp_server = await loop.create_server(self._smtp_session, sock=smtp_sock)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = self._http_server = _UvicornServer(config)
        self._http_task = asyncio.create_task(server.serve(sockets=[http_sock]))
        while not server.started:
            if self._http_task.done():
                await self.stop()
                raise RuntimeError("the HTTP server did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._http_server is not None:
            self._http_server.should_exit = True
        if self._smtp_server is not None:
            self._smtp_server.close()
            for session in list(self._sessions):
                if session.transport is not None:
                    session.transport.close()
            await self._smtp_server.wait_closed()
        if self._http_task is not None:
            try:
                await self._http_task
            except Exception:
                log.exception("the HTTP server failed")
        self._smtp_server = self._http_server = self._http_task = None
        await asyncio.sleep(0)  # let closed SMTP sessions finish their handler tasks

    async def __aenter__(self) -> MailCatcher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _get(self, message_id: str) -> CaughtMessage:
        if message_id == "latest" and self._messages:
            message_id = next(reversed(self._messages))
        if message_id not in self._messages:
            raise HTTPException(status_code=404, detail=f"message {message_id!r} not found")
        return self._messages[message_id]

    def _page(self, found: list[CaughtMessage], start: int, limit: int) -> JSON:
        page = found[::-1][start : start + limit]
        return {
            "total": len(self._messages),
            "unread": len(self._messages),
            "count": len(page),
            "messages_count": len(found),
            "start": start,
            "tags": [],
            "messages": [m.summary() for m in page],
        }

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="crnt mail catcher (Mailpit API subset)")

        @app.get("/livez", response_class=PlainTextResponse)
        @app.get("/readyz", response_class=PlainTextResponse)
        async def livez() -> str:
            return "ok"

        @app.get("/api/v1/messages")
        async def list_messages(limit: Limit = 50, start: Start = 0) -> JSON:
            return self._page(self.messages, start, limit)

        @app.delete("/api/v1/messages", response_class=PlainTextResponse)
        async def delete_messages(body: Annotated[DeleteRequest | None, Body()] = None) -> str:
            if body is None or not body.ids:
                self._messages.clear()
            for message_id in body.ids if body else []:
                self._messages.pop(message_id, None)
            return "ok"

        @app.get("/api/v1/search")
        async def search(query: str, limit: Limit = 50, start: Start = 0) -> JSON:
            return self._page([m for m in self.messages if m.matches(query)], start, limit)

        @app.delete("/api/v1/search", response_class=PlainTextResponse)
        async def delete_search(query: str) -> str:
            for message in [m for m in self.messages if m.matches(query)]:
                self._messages.pop(message.id, None)
            return "ok"

        @app.get("/api/v1/message/{message_id}")
        async def get_message(message_id: str) -> JSON:
            return self._get(message_id).detail()

        @app.get("/api/v1/message/{message_id}/headers")
        async def get_headers(message_id: str) -> dict[str, list[str]]:
            return self._get(message_id).headers

        @app.get("/api/v1/message/{message_id}/raw")
        async def get_raw(message_id: str) -> Response:
            return Response(self._get(message_id).raw, media_type="text/plain; charset=utf-8")

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def inbox(q: str = "", limit: Limit = 200) -> HTMLResponse:
            found = [m for m in self.messages if not q or m.matches(q)][::-1][:limit]
            return HTMLResponse(_inbox_page(found, q, len(self._messages)), headers=_PAGE_HEADERS)

        @app.get("/view/{message_id}.html", response_class=HTMLResponse, include_in_schema=False)
        async def view_html(message_id: str) -> HTMLResponse:
            headers = {
                "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"
            }
            return HTMLResponse(self._get(message_id).html, headers=headers)

        @app.get("/view/{message_id}", response_class=HTMLResponse, include_in_schema=False)
        async def view(message_id: str) -> HTMLResponse:
            return HTMLResponse(_message_page(self._get(message_id)), headers=_PAGE_HEADERS)

        return app


# The HTML view: plain pages, French, no script.

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem;"
    "color:#161616}a{color:#000091}table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}"
    "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}"
    "iframe{width:100%;height:32rem;border:1px solid #ddd}dt{font-weight:bold}"
)
_URL = re.compile(r"https?://[^\s<>\"']+")


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — boîte de test</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _who(addresses: Sequence[Address]) -> str:
    return ", ".join(
        f"{a['Name']} <{a['Address']}>" if a["Name"] else a["Address"] for a in addresses
    )


def _inbox_page(found: Sequence[CaughtMessage], query: str, total: int) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(_rfc3339(m.created))}</td>"
        f"<td>{html.escape(_who(m.to))}</td>"
        f'<td><a href="/view/{m.id}">{html.escape(m.subject or "(sans objet)")}</a></td></tr>'
        for m in found
    )
    table = (
        "<table><caption>Courriels, du plus récent au plus ancien</caption><thead><tr>"
        '<th scope="col">Reçu (UTC)</th><th scope="col">Destinataires</th>'
        f'<th scope="col">Objet</th></tr></thead><tbody>{rows}</tbody></table>'
        if found
        else "<p>Aucun courriel.</p>"
    )
    form = (
        '<form method="get" action="/" role="search"><label for="q">Chercher '
        "(to:adresse, subject:mot…)</label> "
        f'<input id="q" name="q" type="search" value="{html.escape(query, quote=True)}"> '
        '<button type="submit">Chercher</button></form>'
    )
    heading = f"<h1>Boîte de test : {total} courriel{'s' if total > 1 else ''}</h1>"
    return _page("Courriels", heading + form + table)


def _linked(text: str) -> str:
    escaped = html.escape(text)
    return _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)


def _message_page(message: CaughtMessage) -> str:
    facts = "".join(
        f"<dt>{name}</dt><dd>{html.escape(value)}</dd>"
        for name, value in (
            ("De", _who([message.sender])),
            ("À", _who(message.to)),
            ("Objet", message.subject),
            ("Reçu (UTC)", _rfc3339(message.created)),
        )
    )
    parts = f"<h2>Texte</h2><pre>{_linked(message.text)}</pre>"
    if message.html:
        parts += (
            f'<h2>HTML</h2><iframe sandbox src="/view/{message.id}.html" '
            f'title="Version HTML du courriel"></iframe>'
        )
    back = '<p><a href="/">← Tous les courriels</a></p>'
    title = message.subject or "(sans objet)"
    return _page(title, f"{back}<h1>{html.escape(title)}</h1><dl>{facts}</dl>{parts}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--max-messages", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.max_messages < 1:
        parser.error("--max-messages must be at least 1")
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    try:
        asyncio.run(_serve(args.host, args.smtp_port, args.http_port, args.max_messages))
    except OSError as exc:  # typically a port already in use
        log.error("cannot start the mail catcher: %s", exc)
        return 1
    return 0


async def _serve(host: str, smtp_port: int, http_port: int, max_messages: int) -> None:
    catcher = MailCatcher(host, smtp_port, http_port, max_messages)
    await catcher.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    log.info("SMTP on %s:%d, HTTP on %s", host, catcher.smtp_port, catcher.http_url)
    try:
        await stopping.wait()
    finally:
        log.info("stopping")
        await catcher.stop()


if __name__ == "__main__":
    sys.exit(main())
