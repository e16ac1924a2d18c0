"""The SQL a request runs, counted in the process that serves it: every SQLAlchemy engine's
statements and transactions.

Nothing is installed in the service: a counter hooks in only inside its `with` block (the
benchmark's counting pass and the statement-budget tests), so serving pays nothing for it.
Only the thread that entered the block is counted: the embedded worker thread (activity and
audit records, after the request) runs its own event loop on its own engines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# What a statement does and to which table: "SELECT ... FROM acme.courses" -> select courses.
_VERB = re.compile(r"^\s*(\w+)", re.IGNORECASE)
_INTO = re.compile(r"\bINSERT\s+INTO\s+(?:[\w\"]+\.)?\"?(\w+)", re.IGNORECASE)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(?:[\w\"]+\.)?\"?(\w+)", re.IGNORECASE)


def kind(sql: str) -> str:
    """A statement in two words: its verb and its first table (`select courses`); inserts
    chained as data-modifying CTEs name every table (`insert activity_logs+audit_logs`)."""
    if sql.lstrip()[:4].upper() == "WITH" and _INTO.search(sql):
        return "insert " + "+".join(table.lower() for table in _INTO.findall(sql))
    verb = _VERB.match(sql)
    table = _TABLE.search(sql)
    words = [verb.group(1).lower() if verb else "?"]
    if table:
        words.append(table.group(1).lower())
    return " ".join(words)


def summary(statements: Sequence[str]) -> str:
    """The statements' kinds in order, repeats folded: `select courses x2, insert logs`."""
    parts: list[tuple[str, int]] = []
    for statement in statements:
        name = kind(statement)
        if parts and parts[-1][0] == name:
            parts[-1] = (name, parts[-1][1] + 1)
        else:
            parts.append((name, 1))
    return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in parts)


def round_trips(statements: int, transactions: int) -> int:
    """Each statement is one exchange with the database, and a transaction adds two (BEGIN,
    then COMMIT or ROLLBACK); autocommit reads add none."""
    return statements + 2 * transactions


class StatementCounter:
    """`with StatementCounter() as counter:` ... `counter.statements`, `counter.transactions`."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self._thread = threading.get_ident()

    def reset(self) -> None:
        self.statements.clear()
        self.transactions = 0

    def _mine(self) -> bool:
        return threading.get_ident() == self._thread

    def _statement(self, _conn: Connection, _cursor: Any, sql: str, *_rest: Any) -> None:
        if self._mine():
            self.statements.append(sql)

    def _begin(self, conn: Connection) -> None:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        if self._mine() and not autocommit:
            self.transactions += 1

    def __enter__(self) -> StatementCounter:
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "begin", self._begin)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        event.remove(Engine, "begin", self._begin)
        event.remove(Engine, "before_cursor_execute", self._statement)
