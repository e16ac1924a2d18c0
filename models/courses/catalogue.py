"""The catalogue page, the hottest read of the service: one cached statement per shape.

A list request's statement is built once per shape (admin or not, which filters, which
ordering) with bound parameters for the values, and reused: no building, no cache-key
computing, no ORM layer per request. The count rides on the rows as a scalar subquery
(one round trip), not as a window: a window makes PostgreSQL read and sort every matching
row, while the subquery counts them once and the page is read off ix_courses_created_id
(3x fewer database cycles per page, measured with pgbench). A search,
and a page past the end, take the general path (`course_list_query`, `paginate_rows`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, Table, bindparam, func, or_, select

from models.courses.catalog import ROW_COLUMNS, course_list_query
from models.courses.schemas import CourseQuery
from models.courses.tables import Course
from models.direct_reads import DirectReads, compiled_read, tenant_table
from models.identity import Principal
from models.listing import PageRequest, PageResult, paginate_rows
from models.unit_of_work import UnitOfWork

_COURSES: Table = Course.__table__  # type: ignore[assignment]
_FILTERS = ("level", "status", "category_id", "instructor_id", "currency")
_ORDERING = {
    "created_at": "created_at",
    "title": "title",
    "price": "price_cents",
    "average_rating": "average_rating",
    "completion_hours": "completion_hours",
    "id": "id",
}


def _ordering_key(ordering: str | None) -> tuple[tuple[str, bool], ...]:
    """`?ordering=a,-b` as (column, descending) pairs; unknown names dropped, as DRF does."""
    pairs = []
    for raw in (ordering or "").split(","):
        name = raw.strip()
        column = _ORDERING.get(name.lstrip("-"))
        if column is not None:
            pairs.append((column, name.startswith("-")))
    return tuple(pairs) or (("created_at", True),)


@functools.lru_cache(maxsize=256)
def _statement(
    table: Table, is_admin: bool, filters: tuple[str, ...], ordering: tuple[tuple[str, bool], ...]
) -> Select[Any]:
    def conditions(source: FromClause) -> list[ColumnElement[bool]]:
        where = [source.c[name] == bindparam(f"filter_{name}") for name in filters]
        if not is_admin:  # the catalogue: published courses, plus an instructor's own
            mine = source.c.instructor_id == bindparam("actor")
            where.append(or_(source.c.status == "Published", mine))
        return where

    counted = table.alias("counted")
    total = select(func.count()).select_from(counted).where(*conditions(counted))
    c = table.c
    stmt = select(*(c[name] for name in ROW_COLUMNS), total.scalar_subquery())
    stmt = stmt.where(*conditions(table))
    order = [c[col].desc() if desc else c[col].asc() for col, desc in ordering]
    # A unique last key keeps pages stable when the ordered values tie.
    stmt = stmt.order_by(*order, c.id.desc())
    return stmt.limit(bindparam("page_limit")).offset(bindparam("page_offset"))


async def catalogue_page(
    uow: UnitOfWork,
    reads: DirectReads | None,
    *,
    actor: Principal,
    query: CourseQuery,
    page: PageRequest,
) -> PageResult:
    """A page of the course list as rows of ROW_COLUMNS (then the total, unused).

    On PostgreSQL with `reads`, straight through asyncpg; otherwise through the session.
    """
    if (query.search or "").strip() or page.offset > 2**31 - 1:
        return await paginate_rows(uow.session, course_list_query(actor, query), page)
    filters = tuple(name for name in _FILTERS if getattr(query, name) is not None)
    params: dict[str, Any] = {f"filter_{name}": getattr(query, name) for name in filters}
    params.update(actor=actor.user_id, page_limit=page.size, page_offset=page.offset)
    shape = (actor.is_admin, filters, _ordering_key(query.ordering))
    rows: Sequence[Any]
    if reads is not None:
        read = compiled_read(_statement(tenant_table(_COURSES, uow.tenant), *shape))
        rows = await reads.fetch(read.sql, read.args(params))
    else:
        connection = await uow.session.connection()
        rows = (await connection.execute(_statement(_COURSES, *shape), params)).all()
    if not rows:  # past the end, or nothing at all: the general path counts and says which
        return await paginate_rows(uow.session, course_list_query(actor, query), page)
    return PageResult(count=int(rows[0][-1]), rows=rows, page=page)
