"""The ports of the stack, configurable through the environment, and a check that they are free."""

import errno
import os
import socket
from collections.abc import Mapping
from dataclasses import astuple, dataclass

from crnt_devstack.errors import StackError

HOST = "127.0.0.1"


def env_port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise StackError(f"{name}={raw!r} is not a TCP port: set it to a number from 1 to 65535.")
    return port


ENV_NAMES = (
    "KAFKA_PORT",
    "KAFKA_CONTROLLER_PORT",
    "PG_PORT",
    "MAILCATCHER_SMTP_PORT",
    "MAILCATCHER_HTTP_PORT",
)


@dataclass(frozen=True)
class Ports:
    kafka: int = 9092
    kafka_controller: int = 9093
    postgres: int = 5433
    smtp: int = 1025
    mail_http: int = 8025

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Ports":
        env = os.environ if environ is None else environ
        return cls(
            kafka=env_port(env, "KAFKA_PORT", cls.kafka),
            kafka_controller=env_port(env, "KAFKA_CONTROLLER_PORT", cls.kafka_controller),
            postgres=env_port(env, "PG_PORT", cls.postgres),
            smtp=env_port(env, "MAILCATCHER_SMTP_PORT", cls.smtp),
            mail_http=env_port(env, "MAILCATCHER_HTTP_PORT", cls.mail_http),
        ).check_distinct()

    def check_distinct(self) -> "Ports":
        """Every server needs a port of its own."""
        seen: dict[int, str] = {}
        for name, port in zip(ENV_NAMES, astuple(self), strict=True):
            if port in seen:
                raise StackError(
                    f"{seen[port]} and {name} are both {port}: give each of them its own port."
                )
            seen[port] = name
        return self


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on ``host:port`` now.

    SO_REUSEADDR is set as the servers themselves do, so that connections of a stopped server
    lingering in TIME_WAIT do not count as the port being taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def ensure_port_free(port: int, env_name: str, component: str, host: str = HOST) -> None:
    """Raise a StackError telling what to do when another process holds the port."""
    if not port_is_free(port, host):
        raise StackError(
            f"port {port} on {host} (for {component}) is already taken by another process: "
            f"stop that process or set {env_name} to a free port."
        )
