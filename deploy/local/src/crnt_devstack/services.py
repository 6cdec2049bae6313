"""The four services as separate processes (``python -m crnt_<name>``), for ``crnt-stack run``
and the end-to-end tests."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST

READY_TIMEOUT = 60.0

#: Development tokens: accepted because CRNT_ENV is not production (the settings refuse them
#: there). Set CRNT_AGENCY_TOKEN / CRNT_COPIL_TOKEN to override.
DEV_TOKENS = {"CRNT_AGENCY_TOKEN": "dev-agency-token", "CRNT_COPIL_TOKEN": "dev-copil-token"}
#: The first people of the demo (identity reads them at start), whom the tour invites to sign
#: in on the web. Set CRNT_AGENCY_EMAILS / CRNT_COPIL_EMAILS to override.
DEV_PEOPLE = {"CRNT_AGENCY_EMAILS": "agence@example.org", "CRNT_COPIL_EMAILS": "copil@example.org"}


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    #: What a person opens first: the pages of the web, the OpenAPI of the others.
    entry: str = "/docs"

    @property
    def module(self) -> str:
        return f"crnt_{self.name}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def entry_url(self) -> str:
        return f"{self.url}{self.entry}"


SERVICES = (
    Service("registry", 8001),
    Service("programme", 8002),
    Service("budget", 8003),
    Service("notifications", 8004),
)


#: The web front end: no database, no topic; it calls the services above over HTTP.
WEB = Service("web", int(os.environ.get("WEB_PORT") or 8000), entry="/")


def installed() -> list[Service]:
    """The services whose package is installed in this environment, the web first."""
    return [service for service in (WEB, *SERVICES) if importlib.util.find_spec(service.module)]


def ready(service: Service) -> bool:
    try:
        with urllib.request.urlopen(f"{service.url}/ready", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class ServiceProcesses:
    """Started services, stopped together (SIGTERM, then SIGKILL after a grace period)."""

    environ: Mapping[str, str]
    log_dir: Path
    processes: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)

    def start(self, service: Service) -> None:
        # The mailed sign-in links lead to the web, wherever WEB_PORT put it.
        links = {"IDENTITY_SIGN_IN_URL": f"{WEB.url}/connexion/lien"}
        env = {**DEV_TOKENS, **DEV_PEOPLE, **links, **self.environ, "HTTP_PORT": str(service.port)}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{service.name}.log").open("ab")
        self.processes[service.name] = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", service.module], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, services: list[Service]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        for service in services:
            while not ready(service):
                process = self.processes[service.name]
                if process.poll() is not None or time.monotonic() > deadline:
                    log = self.log_dir / f"{service.name}.log"
                    raise StackError(f"the {service.name} service did not become ready; read {log}")
                time.sleep(0.2)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def environment(values: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, **values}
