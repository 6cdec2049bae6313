"""A loopback SMTP server that accepts every mail and throws it away (``python -m
bench.smtp_sink``): what the mail figures send to, in a process of its own so that its CPU
is not the sender's. It prints its port once it listens."""

import asyncio

from aiosmtpd.smtp import SMTP, Envelope, Session


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 Message accepted"


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), loop=loop), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
