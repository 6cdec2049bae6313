"""Which errors say that the database or the network is unreachable for a while, so that
retrying until it comes back is right: the consumer retries them without dead-lettering, the
HTTP layer answers them with 503 and ``Retry-After``, the relay and the sender wait and retry."""

import errno
import socket

import asyncpg

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    # asyncpg's protocol caught mid-operation by the server going away ("cannot switch to
    # state 15; another operation is in progress", seen while PostgreSQL restarts): the
    # connection is lost, a fresh one works.
    asyncpg.InternalClientError,
)

#: The ``errno`` of an OSError that is about the network, not about a file.
_CONNECTION_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the database or the network is unreachable for a while, so that
    retrying until it comes back is right. Other OSErrors are not: a missing file or template
    (jinja2's ``TemplateNotFound`` is an OSError) fails the same way however long one waits."""
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, OSError):
        # asyncio's create_connection joins the errors of several addresses into one OSError.
        return error.errno in _CONNECTION_ERRNOS or str(error).startswith("Multiple exceptions:")
    return False
