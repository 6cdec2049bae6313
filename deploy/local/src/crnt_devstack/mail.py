"""The mail catcher (``crnt-mailcatcher``) run in the background, unless SMTP_HOST names a real
SMTP server to send the mail to."""

import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from crnt_devstack import paths
from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST, Ports, ensure_port_free
from crnt_devstack.process import (
    ComponentStatus,
    running_pid,
    spawn_detached,
    stop_detached,
    tail,
)

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
SCRIPT = "crnt-mailcatcher"
MARKER = "mailcatcher"


class MailFiles(paths.StateFiles):
    log = paths.Under("mailcatcher.log")
    pid_file = paths.Under("mailcatcher.pid")


def files(state: Path | None = None) -> MailFiles:
    return MailFiles.of("mailcatcher", state)


def http_url(ports: Ports) -> str:
    return f"http://{HOST}:{ports.mail_http}"


def external_smtp_host(environ: Mapping[str, str] | None = None) -> str | None:
    """The real SMTP server named by SMTP_HOST, in which case no catcher is started."""
    return (os.environ if environ is None else environ).get("SMTP_HOST") or None


def command(ports: Ports) -> list[str]:
    """``crnt-mailcatcher`` from this environment's bin folder, else the module itself."""
    script = Path(sys.executable).parent / SCRIPT
    module = [sys.executable, "-m", "crnt_devstack.mailcatcher"]
    program = [str(script)] if script.is_file() else module
    return [
        *program,
        "--host",
        HOST,
        "--smtp-port",
        str(ports.smtp),
        "--http-port",
        str(ports.mail_http),
    ]


def running(state: Path | None = None) -> int | None:
    return running_pid(files(state).pid_file, MARKER)


def check_ports(ports: Ports) -> None:
    ensure_port_free(ports.smtp, "MAILCATCHER_SMTP_PORT", "the mail catcher's SMTP server")
    ensure_port_free(ports.mail_http, "MAILCATCHER_HTTP_PORT", "the mail catcher's HTTP API")


def answers(ports: Ports) -> bool:
    """Whether ``GET /api/v1/messages`` returns 200."""
    url = f"{http_url(ports)}/api/v1/messages"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(ports: Ports, state: Path | None = None) -> None:
    smtp_host = external_smtp_host()
    if smtp_host is not None:
        print(f"mailcatcher: not started, SMTP_HOST={smtp_host} receives the mail")
        return
    mail = files(state)
    pid = running(state)
    if pid is not None:
        print(f"mailcatcher: already running (pid {pid}) on {http_url(ports)}")
        return
    check_ports(ports)
    mail.root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    child = spawn_detached(command(ports), log_path=mail.log, pid_file=mail.pid_file, cwd=mail.root)
    while not answers(ports):
        if child.poll() is not None or time.monotonic() - started > READY_TIMEOUT:
            exited = child.poll() is not None
            what = "exited" if exited else f"did not answer in {READY_TIMEOUT:.0f} s"
            raise StackError(
                f"the mail catcher {what}; last lines of {mail.log}:\n{tail(mail.log)}\n"
                f"fix what {mail.log} says and run crnt-stack up again."
            )
        time.sleep(0.2)
    print(
        f"mailcatcher: ready, SMTP on {HOST}:{ports.smtp}, API on {http_url(ports)} "
        f"(pid {child.pid}) in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def stop(state: Path | None = None) -> None:
    stop_detached("mailcatcher", running(state), files(state).pid_file, STOP_TIMEOUT)


def status(ports: Ports, state: Path | None = None) -> ComponentStatus:
    address = f"smtp {HOST}:{ports.smtp}, {http_url(ports)}"
    smtp_host = external_smtp_host()
    note = f"SMTP_HOST={smtp_host} is used instead" if smtp_host else ""
    return ComponentStatus("mailcatcher", running(state), address, note)
