from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.system import System, running_system


@pytest.fixture
async def system(
    kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    logs: Path = tmp_path_factory.mktemp("e2e-logs")
    async with running_system(
        kafka_bootstrap,
        postgres_admin_url,
        logs,
        NOTIFICATIONS_COALESCING_WINDOW_SECONDS="1",
        NOTIFICATIONS_AGENCY_EMAILS="agence@example.org",
    ) as system:
        yield system
