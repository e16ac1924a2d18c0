"""The catalogue page, the hottest read of the service: one cached statement per shape.

A list request's statement is built once per shape (admin or not, which filters, which
ordering) with bound parameters for the values, and reused: no building, no cache-key
computing, no ORM layer per request; the count rides on the rows as a window. A search,
and a page past the end, take the general path (`course_list_query`, `paginate_rows`).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses.catalog import ROW_COLUMNS, course_list_query
from models.courses.schemas import CourseQuery
from models.courses.tables import Course
from models.identity import Principal
from models.listing import PageRequest, PageResult, paginate_rows

_COURSES = Course.__table__
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
    is_admin: bool, filters: tuple[str, ...], ordering: tuple[tuple[str, bool], ...]
) -> Select[Any]:
    c = _COURSES.c
    stmt = select(*(c[name] for name in ROW_COLUMNS), func.count().over())
    if not is_admin:  # the catalogue: published courses, plus an instructor's own
        stmt = stmt.where(or_(c.status == "Published", c.instructor_id == bindparam("actor")))
    for name in filters:
        stmt = stmt.where(c[name] == bindparam(f"filter_{name}"))
    order = [c[col].desc() if desc else c[col].asc() for col, desc in ordering]
    # A unique last key keeps pages stable when the ordered values tie.
    stmt = stmt.order_by(*order, c.id.desc())
    return stmt.limit(bindparam("page_limit")).offset(bindparam("page_offset"))


async def catalogue_page(
    session: AsyncSession, *, actor: Principal, query: CourseQuery, page: PageRequest
) -> PageResult:
    """A page of the course list as rows of ROW_COLUMNS (then the total, unused)."""
    if (query.search or "").strip() or page.offset > 2**31 - 1:
        return await paginate_rows(session, course_list_query(actor, query), page)
    filters = tuple(name for name in _FILTERS if getattr(query, name) is not None)
    params: dict[str, Any] = {f"filter_{name}": getattr(query, name) for name in filters}
    params.update(actor=actor.user_id, page_limit=page.size, page_offset=page.offset)
    stmt = _statement(actor.is_admin, filters, _ordering_key(query.ordering))
    connection = await session.connection()
    rows = (await connection.execute(stmt, params)).all()
    if not rows:  # past the end, or nothing at all: the general path counts and says which
        return await paginate_rows(session, course_list_query(actor, query), page)
    return PageResult(count=int(rows[0][-1]), rows=rows, page=page)
