"""A loopback SMTP server that accepts every mail and throws it away (``python -m
bench.smtp_sink``): what the mail figures send to, in a process of its own. It prints its port
once it listens.

It answers what a client sends (EHLO, HELO, MAIL, RCPT, DATA and the message, RSET, NOOP,
QUIT) and nothing more, a message taken whole up to its ending dot: on a machine of two cores
the server's CPU is the sender's too, and aiosmtpd's (a read and checks for every line of a
message, 1.2 to 1.5 ms a mail) was as much as the sender's own.
``python -m bench.smtp_sink --aiosmtpd`` serves with aiosmtpd instead.
"""

import asyncio
import sys

from aiosmtpd.smtp import SMTP, Envelope, Session

_EHLO = b"250-sink\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n"
_END_OF_DATA = b"\r\n.\r\n"


class Sink:
    """aiosmtpd's handler."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 Message accepted"


class SinkProtocol(asyncio.Protocol):
    """One client's session: commands a line each, then a message up to its ending dot."""

    def __init__(self) -> None:
        self._buffer = b""
        self._in_data = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        replies = []
        while True:
            if self._in_data:
                # The ending dot may follow the DATA command's line at once (an empty message).
                end = (b"\r\n" + self._buffer).find(_END_OF_DATA)
                if end < 0:
                    break
                self._buffer = self._buffer[end + len(_END_OF_DATA) - 2 :]
                self._in_data = False
                replies.append(b"250 Message accepted\r\n")
                continue
            line, found, rest = self._buffer.partition(b"\r\n")
            if not found:
                break
            self._buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(_EHLO)
            elif verb == b"DATA":
                self._in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self._transport.write(b"".join(replies))
                self._transport.close()
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                replies.append(b"250 OK\r\n")
        if replies:
            self._transport.write(b"".join(replies))


async def main() -> None:
    loop = asyncio.get_running_loop()
    if "--aiosmtpd" in sys.argv:
        server = await loop.create_server(lambda: SMTP(Sink(), loop=loop), "127.0.0.1", 0)
    else:
        server = await loop.create_server(SinkProtocol, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
