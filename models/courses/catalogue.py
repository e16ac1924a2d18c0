"""The catalogue (the course list), the hottest read of the service: one statement per shape.

A list request's statement is built once per shape (admin or not, which filters, a search
or not, which ordering; `models/listing.py`) with bound parameters for the values, and
kept: SQLAlchemy's compiled cache hits on every request, and the asyncpg dialect prepares
it once per connection (its `prepared_statement_cache_size`), on a connection of the
tenant's own engine, whose `schema_translate_map` names the tenant's schema as for every
other statement. Rows are Core rows, never ORM objects.

The count rides on the rows as a scalar subquery (one round trip), not as a window: a
window makes PostgreSQL read and sort every matching row, while the subquery counts them
once and the page is read off ix_courses_created_id (3x fewer database cycles per page,
measured with pgbench).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.util import ClauseAdapter

from models.courses.schemas import CourseQuery
from models.courses.visibility import COURSES, visible_in
from models.identity import Principal
from models.listing import (
    Listing,
    ListShape,
    PageRequest,
    PageResult,
    count_on_rows,
    read_rows,
)

# What a row of the catalogue needs (CourseSummary), in the order `catalogue_row`
# (web/courses.py) unpacks them; the total comes last.
ROW_COLUMNS = (
    "id",
    "title",
    "slug",
    "code",
    "level",
    "status",
    "price_cents",
    "discount_price_cents",
    "currency",
    "thumbnail",
    "created_at",
)
_c = COURSES.c
CATALOGUE = Listing(
    filters={
        name: _c[name] for name in ("level", "status", "category_id", "instructor_id", "currency")
    },
    search=(_c.title, _c.code, _c.short_description),
    ordering={
        "created_at": _c.created_at,
        "title": _c.title,
        "price": _c.price_cents,
        "average_rating": _c.average_rating,
        "completion_hours": _c.completion_hours,
        "id": _c.id,
    },
    default=(_c.created_at.desc(),),
    tiebreak=_c.id.desc(),
)
_ACTOR = "lms_actor"


@functools.lru_cache(maxsize=256)
def _statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    counted = COURSES.alias("counted")
    total = select(func.count()).select_from(counted)
    total = total.where(visible_in(counted, is_admin=is_admin, user=bindparam(_ACTOR)))
    # The listing's conditions, moved from the table to the alias.
    on_counted = ClauseAdapter(counted)
    total = total.where(*(on_counted.traverse(c) for c in CATALOGUE.where_shape(shape)))
    stmt = select(*(_c[name] for name in ROW_COLUMNS), total.scalar_subquery())
    stmt = stmt.where(visible_in(COURSES, is_admin=is_admin, user=bindparam(_ACTOR)))
    return CATALOGUE.apply_shape(stmt, shape)


async def catalogue_page(
    reads: AsyncEngine, *, actor: Principal, query: CourseQuery, page: PageRequest
) -> PageResult:
    """A page of the course list as rows of ROW_COLUMNS, then the total, read on the
    tenant's autocommit engine (`read_rows`)."""
    if page.past_any_database:
        return count_on_rows((), page)
    shape = CATALOGUE.shape(query)
    params = CATALOGUE.values(query, shape)
    params.update(page.params())
    params[_ACTOR] = actor.user_id
    stmt = _statement(actor.is_admin, shape)
    return count_on_rows(await read_rows(reads, stmt, params), page)
