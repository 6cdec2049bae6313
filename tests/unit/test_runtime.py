"""Every service's background workers start and stop the same way (no I/O: nothing started)."""

from crnt_shared.runtime import ServiceDefinition, ServiceRuntime
from crnt_shared.settings import ServiceSettings
from crnt_shared.worker import Worker

DB = "postgresql://crnt:s3cret@127.0.0.1:5433/test"


class Recording(Worker):
    def __init__(self, name: str, stopped: list[str]) -> None:
        super().__init__(name)
        self._stopped = stopped

    async def run(self) -> None:
        raise AssertionError("not started in this test")

    async def stop(self) -> None:
        self._stopped.append(self.name)


async def test_workers_stop_in_reverse_order_before_the_stop_steps() -> None:
    settings = ServiceSettings(
        _env_file=None, database_url=DB, agency_token="agency", copil_token="copil"
    )
    runtime = ServiceRuntime(service="test", settings=settings, identity_events=False)
    stopped: list[str] = []
    first, second = Recording("first", stopped), Recording("second", stopped)
    runtime.add_worker(first)
    runtime.add_worker(second, woken_by_commits=True)

    async def close() -> None:
        stopped.append("closed")

    runtime.on_stop.append(close)
    await runtime.stop()
    assert stopped == ["second", "first", "closed"]
    assert runtime.commit_hooks == [second.wake], "only the one woken by commits"


def test_a_service_definition_names_its_migrations_and_describes_its_api() -> None:
    settings = ServiceSettings(
        _env_file=None, database_url=DB, agency_token="agency", copil_token="copil"
    )
    definition = ServiceDefinition(
        "registry", repository=lambda connection: connection, published=()
    )
    assert definition.migrations.namespace == "registry"
    assert definition.migrations.folder.name == "migrations"
    assert definition.description.startswith("The member registry of the network: centres (in")
    assert "\n" not in definition.description, "the docstring's body, lines joined"
    app = ServiceRuntime(definition, settings=settings).http_app(routers=[])
    assert app.title == "crnt registry"
    assert app.description.startswith(definition.description)
