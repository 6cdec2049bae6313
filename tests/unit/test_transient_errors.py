"""Which failures a consumer retries until they end, and which it counts towards the DLQ."""

import errno

import asyncpg
import pytest
from crnt_shared.transient import is_transient
from jinja2 import TemplateNotFound


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError(),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        asyncpg.InterfaceError(
            "cannot call Connection.fetch(): connection has been released back to the pool"
        ),
    ],
)
def test_the_database_or_network_being_unreachable_is_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        TemplateNotFound("bienvenue.txt"),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/etc/crnt.key"),
        PermissionError(errno.EACCES, "Permission denied"),
        IsADirectoryError(errno.EISDIR, "Is a directory"),
        ValueError("bad data"),
        asyncpg.UniqueViolationError("duplicate key"),
    ],
)
def test_a_missing_file_or_a_bug_is_not_transient(error: BaseException) -> None:
    assert not is_transient(error)
