"""A separate process to be killed in tests: ``relay`` publishes the outbox, ``consumer``
handles pings with its inbox.

    python tests/foundation/worker.py relay|consumer DATABASE_URL BOOTSTRAP TOPIC
"""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crnt_shared.db import create_pool
from crnt_shared.outbox import OutboxRelay

from tests.foundation.contracts import ping_consumer


async def main(role: str, database_url: str, bootstrap: str, topic: str) -> None:
    pool = await create_pool(database_url)
    if role == "relay":
        relay = OutboxRelay(pool, bootstrap_servers=bootstrap, service="test", batch_size=50)
        relay.start()
        await asyncio.Event().wait()
    broker = ping_consumer(bootstrap, pool, topic)
    await broker.start()
    print("consumer started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
