"""The services as separate processes (``python -m crnt_<name>``): in the foreground for
``crnt-stack run`` and the end-to-end tests, detached with pid files for ``crnt-stack up``.

:data:`SERVICES` is the one list of them: a new service is one more entry there. Each listens
on its port, or on the one ``<NAME>_HTTP_PORT`` gives (``REGISTRY_HTTP_PORT=18001``).
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST, ensure_port_free, env_port
from crnt_devstack.process import ComponentStatus, running_pid, spawn_detached, tail, terminate

READY_TIMEOUT = 120.0  # ten processes starting at once on two busy cores take their time

#: Development tokens: accepted because CRNT_ENV is not production (the settings refuse them
#: there). Set CRNT_AGENCY_TOKEN / CRNT_COPIL_TOKEN to override.
DEV_TOKENS = {"CRNT_AGENCY_TOKEN": "dev-agency-token", "CRNT_COPIL_TOKEN": "dev-copil-token"}
#: The first people who may sign in (identity mails their links to the mail catcher). Set
#: CRNT_AGENCY_EMAILS / CRNT_COPIL_EMAILS to override.
DEV_PEOPLE = {"CRNT_AGENCY_EMAILS": "agence@example.org", "CRNT_COPIL_EMAILS": "copil@example.org"}


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    #: What a person opens first: the pages of the web, the OpenAPI of the others.
    entry: str = "/docs"
    #: The variable that moves its port, when not ``<NAME>_HTTP_PORT`` (the web's WEB_PORT).
    port_env: str | None = None

    @property
    def module(self) -> str:
        return f"crnt_{self.name}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def entry_url(self) -> str:
        return f"{self.url}{self.entry}"

    @property
    def port_variable(self) -> str:
        return self.port_env or f"{self.name.upper()}_HTTP_PORT"

    @property
    def url_variable(self) -> str:
        """Where the agency's CLI (and the web) finds it."""
        return f"CRNT_{self.name.upper()}_URL"


SERVICES = (
    Service("registry", 8001),
    Service("programme", 8002),
    Service("budget", 8003),
    Service("notifications", 8004),
    Service("identity", 8005),
)


#: The web front end: no database, no topic; it calls the services above over HTTP. Not in
#: SERVICES (which get a database each, and their OpenAPI fuzzed), but started with them.
WEB = Service("web", 8000, entry="/", port_env="WEB_PORT")


def installed(environ: Mapping[str, str] | None = None) -> list[Service]:
    """The services whose package is installed in this environment, on their configured ports,
    the web first."""
    env = os.environ if environ is None else environ
    return [
        replace(service, port=env_port(env, service.port_variable, service.port))
        for service in (WEB, *SERVICES)
        if importlib.util.find_spec(service.module)
    ]


def web_links(environ: Mapping[str, str]) -> dict[str, str]:
    """What the web and the others need to find each other: the services' URLs (for the web),
    the web page the mailed sign-in links lead to (for identity) and the web's address (for the
    links in the notifications' mails), wherever the ports are."""
    present = installed(environ)
    links = {s.url_variable: s.url for s in present if s.name != WEB.name}
    web = next((service for service in present if service.name == WEB.name), None)
    if web is not None:
        links["IDENTITY_SIGN_IN_URL"] = f"{web.url}/connexion/lien"
        links["NOTIFICATIONS_WEB_URL"] = web.url
    return links


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
        env = {
            **DEV_TOKENS,
            **DEV_PEOPLE,
            **web_links(self.environ),
            **self.environ,
            "HTTP_PORT": str(service.port),
        }
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


STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class DetachedServices:
    """The services run in the background by ``crnt-stack up``: pid files in ``state/services``,
    logs in ``state/logs``. ``up`` is idempotent and restarts a service that died."""

    state: Path
    environ: Mapping[str, str]

    def pid_file(self, service: Service) -> Path:
        return self.state / "services" / f"{service.name}.pid"

    def log(self, service: Service) -> Path:
        return self.state / "logs" / f"{service.name}.log"

    def previous_log(self, service: Service) -> Path:
        return self.state / "logs" / f"{service.name}.previous.log"

    def running(self, service: Service) -> int | None:
        return running_pid(self.pid_file(service), f"-m {service.module}")

    def up(self, services: list[Service]) -> None:
        started: dict[str, subprocess.Popen[bytes]] = {}
        for service in services:
            pid = self.running(service)
            if pid is not None:
                print(f"{service.name}: already running (pid {pid}) on {service.url}")
                continue
            died = self.pid_file(service).exists()
            if died and self.log(service).exists():
                # Why it died is in its log, which the new process would empty.
                self.log(service).replace(self.previous_log(service))
            ensure_port_free(service.port, service.port_variable, f"the {service.name} service")
            self.pid_file(service).parent.mkdir(parents=True, exist_ok=True)
            env = {
                **DEV_TOKENS,
                **DEV_PEOPLE,
                **web_links(self.environ),
                **self.environ,
                "HTTP_PORT": str(service.port),
            }
            started[service.name] = spawn_detached(
                [sys.executable, "-m", service.module],
                log_path=self.log(service),
                pid_file=self.pid_file(service),
                cwd=Path.cwd(),  # as `make run` does: a .env there is read
                env=env,
            )
            if died:
                kept = self.previous_log(service)
                print(f"{service.name}: had stopped (log kept in {kept}); started again")
        begun = time.monotonic()
        for service in services:
            child = started.get(service.name)
            while not ready(service):
                exited = child is not None and child.poll() is not None
                if exited or time.monotonic() - begun > READY_TIMEOUT:
                    what = "exited" if exited else f"is not ready after {READY_TIMEOUT:.0f} s"
                    log = self.log(service)
                    raise StackError(
                        f"the {service.name} service {what}; last lines of {log}:\n{tail(log)}"
                    )
                time.sleep(0.2)
            if child is not None:
                print(
                    f"{service.name}: ready on {service.url} (pid {child.pid}) in "
                    f"{time.monotonic() - begun:.1f} s; log {self.log(service)}",
                    flush=True,
                )

    def down(self, services: list[Service]) -> None:
        for service in reversed(services):
            pid = self.running(service)
            if pid is None:
                print(f"{service.name}: not running")
            else:
                clean = terminate(pid, STOP_TIMEOUT)
                print(f"{service.name}: stopped" if clean else f"{service.name}: killed")
            self.pid_file(service).unlink(missing_ok=True)

    def status(self, service: Service) -> ComponentStatus:
        pid = self.running(service)
        if pid is None:
            died = self.pid_file(service).exists()
            note = f"died: read {self.log(service)}; make up restarts it" if died else ""
            return ComponentStatus(service.name, None, service.url, note)
        health = "ready" if ready(service) else "not ready: /ready fails"
        return ComponentStatus(service.name, pid, service.url, health)
