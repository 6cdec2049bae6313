"""The mail catcher as a whole: the store, its SMTP sink and its HTTP app, served together in
the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator, Iterable

import uvicorn

from crnt_devstack.mailcatcher.api import build_app
from crnt_devstack.mailcatcher.message import CaughtMessage
from crnt_devstack.mailcatcher.smtp import SmtpSink
from crnt_devstack.mailcatcher.store import MessageStore

log = logging.getLogger("crnt.mailcatcher")


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
        self.store = MessageStore(max_messages)
        self._sink = SmtpSink(self.store)
        self._smtp_server: asyncio.Server | None = None
        self._http_server: _UvicornServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self.app = build_app(self.store)

    @property
    def max_messages(self) -> int:
        return self.store.max_messages

    @property
    def http_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.http_port}"

    @property
    def messages(self) -> list[CaughtMessage]:
        """Stored messages, oldest first."""
        return self.store.messages

    def add(self, raw: bytes, mail_from: str = "", rcpt_tos: Iterable[str] = ()) -> CaughtMessage:
        return self.store.add(raw, mail_from, rcpt_tos)

    def clear(self) -> None:
        """Forget every message (``DELETE /api/v1/messages`` does the same)."""
        self.store.clear()

    async def start(self) -> None:
        smtp_sock = _bind(self.host, self.smtp_port)
        try:
            http_sock = _bind(self.host, self.http_port)
        except OSError:
            smtp_sock.close()
            raise
        self.smtp_port, self.http_port = smtp_sock.getsockname()[1], http_sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._smtp_server = await loop.create_server(self._sink.session, sock=smtp_sock)
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
            self._sink.close_sessions()
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
