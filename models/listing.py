"""List queries: search, ordering and page slicing, shared by every collection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound

TOTAL = "lms_total_count"
MAX_OFFSET = 2**31 - 1
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


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


def apply_search(stmt: Select[Any], term: str | None, columns: Sequence[Any]) -> Select[Any]:
    """Case-insensitive substring match on any of the columns (LIKE wildcards escaped)."""
    # PostgreSQL cannot compare text holding NUL characters: they match nothing anyway.
    term = (term or "").replace("\x00", "").strip()
    if not term:
        return stmt
    escaped = term[:200].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))


def apply_ordering(
    stmt: Select[Any],
    ordering: str | None,
    allowed: Mapping[str, Any],
    default: Sequence[ColumnElement[Any]],
    tiebreak: Any,
) -> Select[Any]:
    """`?ordering=a,-b` on the allowed names; unknown names are ignored, as DRF does."""
    clauses: list[ColumnElement[Any]] = []
    for raw in (ordering or "").split(","):
        name = raw.strip()
        descending = name.startswith("-")
        column = allowed.get(name.lstrip("-"))
        if column is not None:
            clauses.append(column.desc() if descending else column.asc())
    if not clauses:
        clauses = list(default)
    # A unique last key keeps pages stable when the ordered values tie.
    return stmt.order_by(*clauses, tiebreak)


async def paginate(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> PageResult:
    """Count and slice; a page past the end is a 404 "Invalid page.", as in DRF."""
    total = await _count(session, stmt, page)
    rows = (await session.execute(stmt.limit(page.size).offset(page.offset))).scalars().all()
    return PageResult(count=total, rows=rows, page=page)


async def paginate_rows(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> PageResult:
    """As `paginate`, for a select of columns (hot lists): plain rows, and one query.

    The count rides on each row as a window (`count(*) OVER ()`), so a page costs one round
    trip; only a page past the end, which has no rows to carry it, is counted apart.
    """
    rows: Sequence[Any] = []
    if page.offset <= MAX_OFFSET:  # beyond, no database takes the number: surely past the end
        counted = stmt.add_columns(func.count().over().label(TOTAL))
        rows = (await session.execute(counted.limit(page.size).offset(page.offset))).all()
    if rows:
        return PageResult(count=int(rows[0][-1]), rows=rows, page=page)
    total = await _count(session, stmt, page)
    return PageResult(count=total, rows=rows, page=page)


async def _count(session: AsyncSession, stmt: Select[Any], page: PageRequest) -> int:
    count = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = int(count or 0)
    if page.number > 1 and page.offset >= total:
        raise NotFound("Invalid page.")
    return total
