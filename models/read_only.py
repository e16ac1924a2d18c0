"""Read-only units of work: served in autocommit, and refused any statement that writes.

A read sends its queries alone (no BEGIN, no COMMIT: two round trips fewer) and may be run
again on a fresh connection if the database drops it (web/middlewares.py). Both are safe
only if it really writes nothing: in autocommit a write would be committed statement by
statement, half-done if the request then fails, and done twice if it is retried. So a
read-only bind checks every statement before it is sent, and a write is an error, never a
silent commit.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

# The statements that change data or schema, by their first keyword (text() statements
# carry no compiled flags) or a data-changing CTE's.
_WRITES = re.compile(
    r"^\s*(?:WITH\b.*?\b)?(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|CREATE|DROP|ALTER|TRUNCATE)\b",
    re.IGNORECASE | re.DOTALL,
)


class WriteInReadOnlyUnit(RuntimeError):
    """A statement that writes, sent in a unit of work opened read-only: a programming error
    (the entrance must open a transaction for it)."""


def writes(statement: str, context: ExecutionContext | None) -> bool:
    if isinstance(context, DefaultExecutionContext) and (
        context.isinsert or context.isupdate or context.isdelete or context.isddl
    ):
        return True
    return _WRITES.match(statement) is not None


def read_only_bind(bind: AsyncEngine) -> AsyncEngine:
    """`bind` in autocommit, refusing writes; `bind`'s own sessions are not affected."""
    read_only = bind.execution_options(isolation_level="AUTOCOMMIT")

    # Listeners on a derived engine are its own: transactional sessions pay nothing.
    @event.listens_for(read_only.sync_engine, "before_cursor_execute")
    def _refuse_writes(
        _conn: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if writes(statement, context):
            raise WriteInReadOnlyUnit(f"a read-only unit of work may not write: {statement[:200]}")

    return read_only
