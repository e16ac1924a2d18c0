"""`column IN (values)` with the values as one parameter, so a statement can be built once.

SQLAlchemy's `in_(values)` puts each value in the statement, rendered again at every
execution ("post-compile") and, on PostgreSQL, prepared again for every new count of values.
`one_of(column, "name")` takes the values at execution, as a list (asyncpg takes no set
for an array): `session.execute(stmt, {"name": [...]})`. On PostgreSQL it is `column =
ANY($1)`, one array parameter and one prepared statement whatever the list's length;
elsewhere (SQLite) an expanding `IN`. A statement holding it can live at module level: no
building, cache key or post-compile per request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement[bool]):
    """True where `column` equals one of the values bound to `name` at execution."""

    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    _is_implicitly_boolean = True
    type = Boolean()

    def __init__(self, column: Any, name: str) -> None:
        self.column: ColumnElement[Any] = coercions.expect(roles.ExpressionElementRole, column)
        self.name = name

    @property
    def _from_objects(self) -> list[FromClause]:
        # The column's table, so that a SELECT naming only other columns still has it.
        return self.column._from_objects


def one_of(column: Any, name: str) -> OneOf:
    return OneOf(column, name)


@compiles(OneOf)
def _expanding_in(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _equals_any(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    values = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(values), **kw)
