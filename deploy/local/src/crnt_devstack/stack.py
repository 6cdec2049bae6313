"""``crnt-stack``: Kafka, PostgreSQL, a mail catcher and the services, without Docker.

    crnt-stack up       start what does not run yet, the services included, detached, and wait
                        until it answers (idempotent; a service that died is started again)
    crnt-stack down     stop everything (harmless when nothing runs)
    crnt-stack status   one line per component and service, with its pid and health
    crnt-stack env      ``export`` lines for the services and tests: eval "$(crnt-stack env)"
    crnt-stack with -- COMMAND...
                        run COMMAND with Kafka, PostgreSQL and the mail catcher up and their
                        environment set; stop afterwards what this call started
                        (CRNT_KEEP_STACK=1 keeps it). The tests start services of their own.
    crnt-stack run      the stack and the services in the foreground; Ctrl-C stops all

Ports come from KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT, MAILCATCHER_SMTP_PORT and
MAILCATCHER_HTTP_PORT; state (data, logs, pid files) lives in ``<repo>/.local`` or
$CRNT_STATE_DIR. With SMTP_HOST set, no mail catcher is started.
"""

import argparse
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from crnt_devstack import kafka, mail, paths, postgres, services
from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST, Ports


def env_lines(ports: Ports, environ: Mapping[str, str]) -> list[str]:
    """``export NAME=value`` lines pointing the services, the tests and the CLI at the stack."""
    urls = {
        service.url_variable: service.url
        for service in services.installed(environ)
        if service.name != services.WEB.name  # nothing calls the web's API
    }
    values = {**urls, **env_values(ports, environ)}
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def env_values(ports: Ports, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables pointing the services and tests at the stack."""
    values = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers(ports)}
    for database in postgres.DATABASES:
        values[f"{database.upper()}_DATABASE_URL"] = postgres.database_url(ports, database)
    values["CRNT_TEST_ADMIN_DATABASE_URL"] = postgres.database_url(ports, postgres.ADMIN_DATABASE)
    smtp_host = mail.external_smtp_host(environ)
    if smtp_host is not None:
        values["SMTP_HOST"] = smtp_host
        values["SMTP_PORT"] = environ.get("SMTP_PORT") or "25"
    else:
        values["SMTP_HOST"] = HOST
        values["SMTP_PORT"] = str(ports.smtp)
        values["MAILCATCHER_URL"] = mail.http_url(ports)
    return values


def check_ports(ports: Ports) -> None:
    """Before starting anything: the ports of every component still to start must be free."""
    if kafka.running() is None:
        kafka.check_ports(ports)
    if postgres.running() is None:
        postgres.check_port(ports)
    if mail.external_smtp_host() is None and mail.running() is None:
        mail.check_ports(ports)


def up_infrastructure(ports: Ports) -> None:
    check_ports(ports)
    kafka.start(ports)
    postgres.start(ports)
    mail.start(ports)
    print('stack is up; eval "$(uv run crnt-stack env)" points the services at it')


def detached() -> services.DetachedServices:
    env = services.environment(env_values(Ports.from_env(), os.environ))
    return services.DetachedServices(paths.state_dir(), env)


def up(ports: Ports) -> None:
    """Like ``docker compose up -d``: the infrastructure, then every service, detached."""
    up_infrastructure(ports)
    detached().up(services.installed())
    print("services are up: make status shows them, make down stops everything")


def down(ports: Ports) -> None:
    failures: list[str] = []
    stops: list[Callable[[], None]] = [
        lambda: detached().down(services.installed()),
        mail.stop,
        kafka.stop,
        postgres.stop,
    ]
    for stop in stops:
        try:
            stop()
        except StackError as error:
            failures.append(str(error))
    if failures:
        raise StackError("\n".join(failures))


def status(ports: Ports) -> None:
    for component in (kafka.status(ports), postgres.status(ports), mail.status(ports)):
        print(component.line())
    running = detached()
    for service in services.installed():
        print(running.status(service).line())


def env(ports: Ports) -> None:
    print("\n".join(env_lines(ports, os.environ)))


def _running() -> dict[str, bool]:
    return {
        "kafka": kafka.running() is not None,
        "postgres": postgres.running() is not None,
        "mail": mail.running() is not None,
    }


def _stop_started_by_us(before: dict[str, bool]) -> None:
    if os.environ.get("CRNT_KEEP_STACK") == "1":
        return
    stops = {"mail": mail.stop, "kafka": kafka.stop, "postgres": postgres.stop}
    for name, stop in stops.items():
        if not before[name]:
            stop()


def with_stack(ports: Ports, command: Sequence[str]) -> int:
    """Run ``command`` against the stack; returns its exit code."""
    if not command:
        raise StackError("nothing to run: crnt-stack with -- COMMAND [ARGS...]")
    before = _running()
    try:
        up_infrastructure(ports)
        env = services.environment(env_values(ports, os.environ))
        return subprocess.call(list(command), env=env)  # noqa: S603 - the caller's command
    finally:
        _stop_started_by_us(before)


def run(ports: Ports) -> None:
    """Everything in the foreground until Ctrl-C (or SIGTERM)."""
    before = _running()
    processes = None
    try:
        present = services.installed()
        alive = [service.name for service in present if detached().running(service)]
        if alive:
            raise StackError(
                f"{', '.join(alive)} already run detached (make up): use them as they are, "
                "or make down first"
            )
        up_infrastructure(ports)
        env = services.environment(env_values(ports, os.environ))
        processes = services.ServiceProcesses(env, paths.state_dir() / "logs")
        for service in present:
            processes.start(service)
        processes.wait_ready(present)
        seed_demo(env)
        print_tour(ports, present)
        signal.signal(signal.SIGTERM, _interrupt)
        while all(process.poll() is None for process in processes.processes.values()):
            time.sleep(0.5)
        raise StackError("a service stopped: read its log in .local/logs, then make run again")
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        # Ctrl-C reaches every process of the terminal, and uv forwards it too: a second
        # interrupt must not cut the clean stop short and leave Kafka or PostgreSQL running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if processes is not None:
            processes.stop_all()
        _stop_started_by_us(before)


def seed_demo(env: Mapping[str, str]) -> None:
    """The demo territory, through the agency's CLI (idempotent); skipped with CRNT_NO_SEED=1."""
    if env.get("CRNT_NO_SEED") == "1" or shutil.which("crnt", path=env.get("PATH")) is None:
        return
    tokens = {**services.DEV_TOKENS, **env}
    print("seeding the demo territory (Pays de Saint-Omer) ...", flush=True)
    status = subprocess.call(["crnt", "demo", "seed"], env=tokens)  # noqa: S607 - our CLI
    if status != 0:
        raise StackError("seeding the demo territory failed: read the error above")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


TOUR = (
    "centres list --status member",
    "budget shares 2026",
    "budget versions 2026",
    "programme report 2026",
    "deliveries list",
)


def print_tour(ports: Ports, present: list[services.Service]) -> None:
    print("\ncrnt is running. Ctrl-C stops everything.\n")
    for service in present:
        print(f"  {service.name:<14} {service.entry_url}")
    if mail.external_smtp_host() is None:
        print(f"  {'mail catcher':<14} {mail.http_url(ports)}/")
    web = next((service for service in present if service.name == services.WEB.name), None)
    if web is not None:
        people = {**services.DEV_PEOPLE, **os.environ}
        print(
            f"\nSign in on the web ({web.url}/connexion) as"
            f" {people['CRNT_AGENCY_EMAILS'].split(',')[0]} (agency) or"
            f" {people['CRNT_COPIL_EMAILS'].split(',')[0]} (steering committee), or as an"
            " animator of a member centre (their addresses are on the agency's pages);"
            f" the link arrives in the mail catcher ({mail.http_url(ports)}/)."
        )
    print(f"\n  agency token: {services.DEV_TOKENS['CRNT_AGENCY_TOKEN']} (development only)")
    print("\nTry the agency's CLI in another terminal (uv run crnt --help):")
    print(f"  export CRNT_AGENCY_TOKEN={services.DEV_TOKENS['CRNT_AGENCY_TOKEN']}")
    for command in TOUR:
        print(f"  uv run crnt {command}")
    print()


COMMANDS: dict[str, Callable[[Ports], None]] = {
    "up": up,
    "down": down,
    "status": status,
    "env": env,
    "run": run,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="crnt-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=[*COMMANDS, "with"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="with: the command to run")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # aiokafka logs each refused connection while the broker boots: expected, not news.
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    try:
        if args.command == "with":
            command = args.args[1:] if args.args[:1] == ["--"] else args.args
            return with_stack(Ports.from_env(), command)
        COMMANDS[args.command](Ports.from_env())
    except StackError as error:
        print(f"crnt-stack: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crnt-stack: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
