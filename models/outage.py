"""When the database goes away: which errors say so, and which of them a read may retry.

A restart or failover of PostgreSQL (or `pg_terminate_backend`) kills the pooled
connections. Pooled connections found closed are replaced when they are checked out
(models/tenancy.py), so what remains is a statement that was on the wire when its
connection died: a read may run again on a fresh connection (nothing was written), a write
may not (its transaction is rolled back). Either way the client is told 503, never 500.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

DETAIL = "The database is unavailable; try again shortly."
RETRY_AFTER_SECONDS = 1

# The server ended the session, or would not start one (SQLSTATE 08xxx, 57P0x).
_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    DisconnectionError,
    # Refused, reset or aborted sockets, raised as they are by the driver on connect.
    ConnectionError,
)
# Not a lost connection, but the database cannot serve now all the same: a full pool
# (after its wait), PostgreSQL out of connections, SQLite's "database is locked".
_BUSY = (PoolTimeout, asyncpg.TooManyConnectionsError, OperationalError)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: SQLAlchemy's `orig` and the driver's own error beneath."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _LOST):
        return True
    # asyncpg's protocol got a message it did not expect: in practice the server's farewell
    # (FATAL, "terminating connection") that reached an idle connection before the socket's
    # end did. That connection can never run a statement again.
    if isinstance(exc, asyncpg.InternalClientError):
        return True
    # asyncpg's InterfaceError also covers misuse; only a closed connection counts here.
    return isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc)


def connection_lost(exc: BaseException) -> bool:
    """The connection died under the statement, or none could be opened."""
    return any(_lost(cause) for cause in _causes(exc))


def database_unavailable(exc: BaseException) -> bool:
    """The request cannot be served because of the database, not because of itself: a 503."""
    return any(_lost(cause) or isinstance(cause, _BUSY) for cause in _causes(exc))
