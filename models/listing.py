"""Every list's filters, search, ordering and pages: one `Listing` per collection.

A `Listing` names what a collection's query string may ask for (equality filters, searched
columns, `?ordering=` names, the order without one). `apply` gives the statement with the
values in it; `shape`, `apply_shape` and `values` give the same statement with bound
parameters instead, built once per shape and cached by whoever holds it (`page_of` runs
it), so no statement is built per request, and SQLAlchemy's compiled cache and the
driver's prepared statements are hit on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Engine,
    Executable,
    Row,
    Select,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.util import greenlet_spawn

from models.errors import NotFound

MAX_OFFSET = 2**31 - 1
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
SEARCH_PARAM = "lms_search"
ACTOR_PARAM = "lms_actor"  # who asks, in statements built once for every reader
LIMIT_PARAM = "lms_page_limit"
OFFSET_PARAM = "lms_page_offset"
# A user id as a value, or as a bound parameter (`ACTOR_PARAM`) in a statement built once.
UserRef = str | BindParameter[str]
# `?ordering=` as (name, descending) pairs, in the order asked.
OrderKeys = tuple[tuple[str, bool], ...]
# What an ORDER BY takes: a column, mapped or not, or a column's asc()/desc().
OrderKey = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def past_any_database(self) -> bool:
        """An offset no database takes: surely past the end."""
        return self.offset > MAX_OFFSET

    def params(self) -> dict[str, int]:
        """The values of `LIMIT_PARAM` and `OFFSET_PARAM` (`Listing.apply_shape`)."""
        return {LIMIT_PARAM: self.size, OFFSET_PARAM: self.offset}


@dataclass(frozen=True, slots=True)
class PageResult:
    count: int
    rows: Sequence[Any]
    page: PageRequest

    @property
    def has_next(self) -> bool:
        return self.page.offset + len(self.rows) < self.count

    @property
    def has_previous(self) -> bool:
        return self.page.number > 1


@dataclass(frozen=True, slots=True)
class ListShape:
    """What varies between two statements of one list: which filters, a search or not,
    the ordering; the values themselves are bound parameters."""

    filters: tuple[str, ...]
    searching: bool
    order: OrderKeys


@dataclass(frozen=True, eq=False)
class Listing:
    """One collection's list rules.

    `filters`: query field -> column, compared for equality (inline booleans with IS);
    `search`: the columns `?search=` matches (case-insensitive substring);
    `ordering`: `?ordering=` name -> its column, or columns (each taking the name's direction);
    `default`: the order when `?ordering=` names nothing known;
    `first`: keys before any asked for (pinned posts first);
    `tiebreak`: a unique last key, so pages stay stable when the ordered values tie.
    Compared by identity: a listing is built once, at import.
    """

    default: Sequence[OrderKey]
    tiebreak: OrderKey | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    search: Sequence[Any] = ()
    ordering: Mapping[str, Any] = field(default_factory=dict)
    first: Sequence[OrderKey] = ()

    def apply(self, stmt: Select[Any], query: BaseModel | None = None) -> Select[Any]:
        """`stmt` filtered, searched and ordered as `query` asks, its values inline."""
        if query is None:
            return self._ordered(stmt, ())
        filters = self._present(query)
        stmt = stmt.where(*(_equal(self.filters[name], getattr(query, name)) for name in filters))
        pattern = search_pattern(getattr(query, "search", None))
        if pattern is not None:
            stmt = stmt.where(self._matches(bindparam(SEARCH_PARAM, pattern)))
        return self._ordered(stmt, self.order_keys(getattr(query, "ordering", None)))

    def shape(self, query: BaseModel) -> ListShape:
        searching = search_pattern(getattr(query, "search", None)) is not None
        ordering = self.order_keys(getattr(query, "ordering", None))
        return ListShape(self._present(query), searching, ordering)

    def where_shape(self, shape: ListShape) -> list[ColumnElement[bool]]:
        """The shape's filter and search conditions, on bound parameters (`values`)."""
        where = [_equal(self.filters[name], bindparam(_param(name))) for name in shape.filters]
        if shape.searching:
            where.append(self._matches(bindparam(SEARCH_PARAM)))
        return where

    def apply_shape(self, stmt: Select[Any], shape: ListShape) -> Select[Any]:
        """`stmt` as `apply` makes it for any query of this shape, sliced by the page's
        parameters (`PageRequest.params`): a statement to build once and keep."""
        stmt = self._ordered(stmt.where(*self.where_shape(shape)), shape.order)
        return stmt.limit(bindparam(LIMIT_PARAM)).offset(bindparam(OFFSET_PARAM))

    async def page_of(
        self,
        session: AsyncSession,
        statement: Callable[[ListShape], Select[Any]],
        query: BaseModel,
        page: PageRequest,
        params: Mapping[str, Any],
        *,
        whole_rows: bool = False,
    ) -> PageResult:
        """The page `query` asks for, of `statement(shape)`: a statement on bound parameters
        (`counted`, then `apply_shape`), which the caller builds once per shape and caches;
        `params` are its own values beside the query's (`ACTOR_PARAM`, say). The page holds
        each row's entity, or with `whole_rows` the rows as they are (the total last)."""
        shape = self.shape(query)
        values = {**self.values(query, shape), **params}
        return await paginate_built(session, statement(shape), values, page, whole_rows=whole_rows)

    def values(self, query: BaseModel, shape: ListShape) -> dict[str, Any]:
        """The bound parameters of `shape`'s statement for this query."""
        values = {_param(name): getattr(query, name) for name in shape.filters}
        if shape.searching:
            values[SEARCH_PARAM] = search_pattern(getattr(query, "search", None))
        return values

    def order_keys(self, ordering: str | None) -> OrderKeys:
        ordering = ordering or ""
        if len(ordering) > _CACHED_ORDERING:  # no client fills the cache with long strings
            return _order_keys.__wrapped__(self, ordering)
        return _order_keys(self, ordering)

    def order_by(self, keys: OrderKeys) -> list[OrderKey]:
        if not keys:
            return [*self.first, *self.default]
        clauses = list(self.first)
        for name, descending in keys:
            for column in _columns(self.ordering[name]):
                clauses.append(column.desc() if descending else column.asc())
        return clauses

    def _ordered(self, stmt: Select[Any], keys: OrderKeys) -> Select[Any]:
        clauses = self.order_by(keys)
        if self.tiebreak is not None:
            clauses.append(self.tiebreak)
        return stmt.order_by(*clauses)

    def _present(self, query: BaseModel) -> tuple[str, ...]:
        return tuple(name for name in self.filters if getattr(query, name, None) is not None)

    def _matches(self, pattern: BindParameter[Any]) -> ColumnElement[bool]:
        return or_(*(column.ilike(pattern, escape="\\") for column in self.search))


_CACHED_ORDERING = 100


@functools.lru_cache(maxsize=1024)
def _order_keys(listing: Listing, ordering: str) -> OrderKeys:
    """`?ordering=a,-b` on the listing's names; unknown names are ignored, as DRF does."""
    keys = []
    for raw in ordering.split(","):
        name = raw.strip()
        if name.lstrip("-") in listing.ordering:
            keys.append((name.lstrip("-"), name.startswith("-")))
    return tuple(keys)


def _columns(target: Any) -> tuple[Any, ...]:
    return target if isinstance(target, tuple) else (target,)


def _param(name: str) -> str:
    return f"lms_filter_{name}"


def _equal(column: Any, value: Any) -> ColumnElement[bool]:
    if isinstance(value, bool):
        return column.is_(value)  # type: ignore[no-any-return]
    return column == value  # type: ignore[no-any-return]


def search_pattern(term: str | None) -> str | None:
    """`?search=` as a LIKE pattern (wildcards escaped), or None when it asks for nothing."""
    # PostgreSQL cannot compare text holding NUL characters: they match nothing anyway.
    term = (term or "").replace("\x00", "").strip()
    if not term:
        return None
    escaped = term[:200].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def read_rows(
    reads: AsyncEngine, stmt: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """One SELECT's Core rows, on the tenant's autocommit engine (`Databases.tenant_reads`):
    a single SELECT needs no session, and each hop into SQLAlchemy's greenlet copies the
    request's deep stack, so connection, execution and rows take one hop together."""
    return await greenlet_spawn(_rows, reads.sync_engine, stmt, params)


def _rows(engine: Engine, stmt: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
    with engine.connect() as connection:
        return connection.execute(stmt, params).all()


def count_on_rows(rows: Sequence[Any], page: PageRequest) -> PageResult:
    """The page, whose rows carry the total as their last column: no rows is an empty
    first page, or a page past the end (404 "Invalid page.", as in DRF), with no count
    needed to tell which."""
    if rows:
        return PageResult(count=int(rows[0][-1]), rows=rows, page=page)
    check_page_exists(page, 0)
    return PageResult(count=0, rows=rows, page=page)


async def paginate(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> PageResult:
    """The page and the total in one round trip: the total rides on each row as a window
    column (`count_on_rows`); a page past the end is a 404 "Invalid page.", as in DRF.

    A DISTINCT statement counts apart: its window would count the rows before DISTINCT.
    """
    if page.past_any_database:
        return count_on_rows((), page)
    if stmt._distinct:
        total = await _count(session, stmt, page)
        rows = (await session.execute(_sliced(stmt, page))).scalars().all()
        return PageResult(count=total, rows=rows, page=page)
    rows = (await session.execute(_sliced(counted(stmt), page))).all()
    return _entities(rows, page)


def counted(stmt: Select[Any]) -> Select[Any]:
    """`stmt` (not DISTINCT) with the total riding on each row as its last column, as
    `paginate` adds it: for a statement built once (`Listing.apply_shape`), run by
    `paginate_built`."""
    return stmt.add_columns(_TOTAL)


async def paginate_built(
    session: AsyncSession,
    stmt: Select[Any],
    params: dict[str, Any],
    page: PageRequest,
    *,
    whole_rows: bool = False,
) -> PageResult:
    """As `paginate`, for a statement built once per shape: `counted`, then sliced by
    `Listing.apply_shape`; `params` are its values (`Listing.values` and the caller's).
    Nothing is built per request: no statement, no cache key, no compilation."""
    if page.past_any_database:
        return count_on_rows((), page)
    rows = (await session.execute(stmt, {**params, **page.params()})).all()
    return count_on_rows(rows, page) if whole_rows else _entities(rows, page)


def _entities(rows: Sequence[Row[Any]], page: PageRequest) -> PageResult:
    """The page of each row's entity, the total from their last column."""
    result = count_on_rows(rows, page)
    return PageResult(count=result.count, rows=[row[0] for row in rows], page=page)


async def paginate_rows(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> PageResult:
    """As `paginate`, for a statement of several columns (not DISTINCT): the rows whole,
    the total still riding as their last column."""
    if page.past_any_database:
        return count_on_rows((), page)
    rows = (await session.execute(_sliced(counted(stmt), page))).all()
    return count_on_rows(rows, page)


_TOTAL = func.count().over()


def _sliced(stmt: Select[Any], page: PageRequest) -> Select[Any]:
    return stmt.limit(page.size).offset(page.offset)


def check_page_exists(page: PageRequest, count: int) -> None:
    """A page past the end is a 404 "Invalid page.", as in DRF; the first always exists."""
    if page.number > 1 and page.offset >= count:
        raise NotFound("Invalid page.")


async def _count(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> int:
    count = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = int(count or 0)
    check_page_exists(page, total)
    return total
