"""DRF-style page numbers: `count`, `next`, `previous` (absolute URLs), `results`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, PageResult, paginate


def page_request(request: web.Request) -> PageRequest:
    """`?page=` must be a positive integer (else 404 "Invalid page."); page_size is clamped."""
    try:
        number = int(request.query.get("page", "1"))
    except ValueError:
        raise NotFound("Invalid page.") from None
    if number < 1:
        raise NotFound("Invalid page.")
    try:
        size = int(request.query.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)
    return PageRequest(number=number, size=size)


def page_url(request: web.Request, number: int | None) -> str | None:
    """The same URL with another page, every other parameter kept (as DRF does)."""
    if number is None:
        return None
    query = request.rel_url.query.copy()
    if number == 1:
        query.popall("page", None)
    else:
        query["page"] = str(number)
    return str(request.url.with_query(query))


def page_body(request: web.Request, result: PageResult, results: Sequence[Any]) -> dict[str, Any]:
    number = result.page.number
    return {
        "count": result.count,
        "next": page_url(request, number + 1 if result.has_next else None),
        "previous": page_url(request, number - 1 if result.has_previous else None),
        "results": results,
    }


async def paginated(
    request: web.Request,
    session: AsyncSession,
    stmt: Select[Any],
    serialize: Callable[[Any], Any],
) -> dict[str, Any]:
    page = page_request(request)
    result = await paginate(session, stmt, page)
    return page_body(request, result, [serialize(row) for row in result.rows])
