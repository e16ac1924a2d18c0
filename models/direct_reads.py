"""Hot reads straight on asyncpg: prepared statements without the ORM's session and result layers.

The course list is the service's hottest read. Through a SQLAlchemy session it pays for the
session, its transaction bookkeeping, the execution context and the result wrapper on every
request: about a third of the server's CPU per page (py-spy, bench/README.md). Here the same
statement, compiled once per shape and tenant, runs on a small asyncpg pool of its own, whose
per-connection statement cache prepares it once: each request then costs one Bind/Execute.

Only on PostgreSQL through asyncpg; elsewhere (the embedded SQLite) `open` gives None and the
callers take the session path. Reads here are autocommit, as the session's read-only GETs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import MetaData, Select, Table
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import URL

from models.outage import connection_lost

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DirectReads:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: URL, *, size: int) -> DirectReads | None:
        """A pool on the same database as `url`, or None when it is not asyncpg or size is 0.

        Connections open on first use (min_size 0): an instance that never lists pays nothing.
        """
        if url.drivername != "postgresql+asyncpg" or size < 1:
            return None
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(dsn, min_size=0, max_size=size, reset=_nothing_to_reset)
        return cls(pool)

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
        """The rows; a connection the server dropped raises and is never pooled again.

        The pool replaces connections it finds closed when it hands them out; one that dies
        under the statement raises here, and the request is retried once as every read is
        (web/middlewares.py).
        """
        async with self._pool.acquire() as connection:
            try:
                rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
            except Exception as exc:
                if connection_lost(exc):
                    await self._dropped(connection)
                raise
        return rows

    async def _dropped(self, connection: asyncpg.Connection) -> None:
        """What ended this connection (a restart, a failover) most likely ended its siblings
        too, some of whose sockets may not have closed yet: all are replaced before reuse,
        as SQLAlchemy's pool does on a disconnect."""
        with contextlib.suppress(asyncpg.InterfaceError):  # already detached when closed
            connection.terminate()
        await self._pool.expire_connections()

    async def close(self) -> None:
        await self._pool.close()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """asyncpg's default reset costs a round trip per release (RESET ALL, UNLISTEN *, ...):
    14% of a list request's CPU. These connections only ever run single SELECTs in
    autocommit: no settings, listeners, locks or cursors are left to undo."""


@functools.lru_cache(maxsize=256)
def tenant_table(table: Table, tenant: str) -> Table:
    """`table` in `tenant`'s schema: statements on it render the schema in their own text."""
    return table.to_metadata(MetaData(), schema=tenant)


@dataclass(frozen=True)
class CompiledRead:
    """A statement as asyncpg's SQL, with its $n parameters in order."""

    sql: str
    names: tuple[str, ...]
    # Values the statement itself carries (its literals, bound by SQLAlchemy).
    fixed: dict[str, Any]

    def args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] if name in params else self.fixed[name] for name in self.names]


@functools.lru_cache(maxsize=1024)
def compiled_read(stmt: Select[Any]) -> CompiledRead:
    """`stmt` compiled once for asyncpg; `stmt` must be a cached object (keyed by identity)."""
    compiled = stmt.compile(dialect=_DIALECT)
    return CompiledRead(compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
