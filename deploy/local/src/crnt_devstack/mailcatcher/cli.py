"""``crnt-mailcatcher`` (or ``python -m crnt_devstack.mailcatcher``): the mail catcher on its
own, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from crnt_devstack.mailcatcher.catcher import MailCatcher

log = logging.getLogger("crnt.mailcatcher")

DESCRIPTION = (
    "In-memory mail catcher: an SMTP sink plus the subset of Mailpit's HTTP API that tests use."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
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
