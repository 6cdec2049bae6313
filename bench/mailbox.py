"""A mailbox for the benches that send tens of thousands of mails (``python -m bench.mailbox``):
a loopback SMTP server, in a process of its own, that keeps of each mail only its kind (from
its subject), its recipients and its size. The mail catcher parses every message whole (5 ms
each on this machine, 400 s of CPU for a national import's 80,000 mails); this reads the
subject header alone.

It prints its port once it listens, then answers each line read on stdin with one JSON line:
per kind, the mails, the distinct recipients and the largest size in bytes, and the time of
the last mail (``time.monotonic`` of this process's clock)."""

import asyncio
import json
import sys
import time
from collections import Counter
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

WELCOME, WELCOME_END = "Bienvenue dans le réseau\u202f: ", " est désormais membre"
_HEADERS = BytesHeaderParser(policy=compat32)


def kind_of(subject: str) -> str:
    """The kind of a crnt mail, from its subject."""
    if subject.startswith(WELCOME) and subject.endswith(WELCOME_END):
        return "welcome"
    if subject.startswith("Dotation"):
        return "share"
    if "nouveau" in subject:
        return "new members"
    if "demande d'adhésion importée" in subject or "demandes d'adhésion importées" in subject:
        return "imported applications"
    if "demande d'adhésion" in subject:
        return "application"
    return "other"


def subject_of(content: bytes) -> str:
    raw = _HEADERS.parsebytes(content).get("Subject", "")
    return str(make_header(decode_header(raw))) if "=?" in raw else raw


class Tally:
    def __init__(self) -> None:
        self.mails: Counter[str] = Counter()
        self.recipients: dict[str, set[str]] = {}
        self.largest: Counter[str] = Counter()
        self.last = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        kind = kind_of(subject_of(content))
        self.mails[kind] += 1
        self.recipients.setdefault(kind, set()).update(r.lower() for r in envelope.rcpt_tos)
        self.largest[kind] = max(self.largest[kind], len(content))
        self.last = time.monotonic()
        return "250 Message accepted"

    def report(self) -> dict[str, Any]:
        return {
            "kinds": {
                kind: {
                    "mails": count,
                    "recipients": len(self.recipients[kind]),
                    "largest": self.largest[kind],
                }
                for kind, count in self.mails.items()
            },
            "idle_seconds": time.monotonic() - self.last if self.last else None,
        }


async def main() -> None:
    loop = asyncio.get_running_loop()
    tally = Tally()
    server = await loop.create_server(lambda: SMTP(tally, loop=loop), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.readline():
        print(json.dumps(tally.report()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
