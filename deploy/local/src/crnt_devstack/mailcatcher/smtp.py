"""The SMTP sink: accepts every message (and any AUTH PLAIN/LOGIN credentials, without TLS) and
keeps it in the store."""

from __future__ import annotations

import asyncio
import weakref

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from crnt_devstack.mailcatcher.store import MessageStore


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    return AuthResult(success=True, auth_data=auth_data)


class SmtpSink:
    """The aiosmtpd handler, and the factory of its sessions (one per connection)."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        self._store.add(
            raw if isinstance(raw, bytes) else raw.encode(),
            envelope.mail_from or "",
            envelope.rcpt_tos,
        )
        return "250 Message accepted for delivery"

    def session(self) -> SMTP:
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

    def close_sessions(self) -> None:
        """Drop the connections still open (a stopping server waits for them otherwise)."""
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
