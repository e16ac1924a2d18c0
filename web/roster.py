"""Routes: a course's roster, as pages of JSON or as one CSV streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from models.courses import roster
from models.courses.schemas import RosterEntry, RosterQuery
from models.people.names import person
from web.courses import COURSE
from web.handlers import actor, ok, path_id, reads, session
from web.jsonio import read_query
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
TAG = "courses"
CSV_TYPE = "text/csv"


def roster_row(row: Sequence[Any]) -> dict[str, Any]:
    """A roster row (models/courses/roster.py COLUMNS) as RosterEntry renders it."""
    user_id, name, enrolled, completed, progress, active, last, picture = row[:8]
    return {
        "user_id": user_id,
        "user": person(user_id, name, picture),
        "name": name,
        "enrolled_at": enrolled,  # orjson writes UTC as ...Z (web/jsonio.py)
        "completed_at": completed,
        "progress": round(min(progress, 100.0), 2),
        "is_active": active,
        "last_activity": last,
    }


def wants_csv(request: web.Request) -> bool:
    """`?format=csv`, or an Accept header that asks for CSV and not JSON."""
    asked = request.query.get("format")
    if asked is not None:
        return asked == "csv"
    accept = request.headers.get("Accept", "")
    return CSV_TYPE in accept and "application/json" not in accept


@routes.read(
    COURSE + "roster/",
    tag=TAG,
    query=RosterQuery,
    response=RosterEntry,
    paginated=True,
    expensive=("search", "format"),
)
async def course_roster(request: web.Request) -> web.StreamResponse:
    """A course's enrollees (its instructor and admins); `?format=csv` (or `Accept:
    text/csv`) streams them all as CSV."""
    query = read_query(request, RosterQuery)
    course_id = path_id(request, "course_id")
    if wants_csv(request):
        await roster.access_roster(session(request), actor=actor(request), course_id=course_id)
        rows = roster.roster_rows(
            reads(request), actor=actor(request), course_id=course_id, query=query
        )
        return RosterExport(rows, filename=f"course-{course_id}-roster.csv")
    result = await roster.roster_page(
        reads(request),
        session(request),
        actor=actor(request),
        course_id=course_id,
        query=query,
        page=page_request(request),
    )
    return ok(page_body(request, result, [roster_row(row) for row in result.rows]))


class RosterExport(web.StreamResponse):
    """The CSV, written chunk by chunk as the cursor hands rows over: sent once every
    middleware has added its headers (aiohttp prepares a returned response last)."""

    def __init__(self, rows: AsyncIterator[Sequence[Any]], *, filename: str) -> None:
        super().__init__(
            status=200,
            headers={
                "Content-Type": f"{CSV_TYPE}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
        self._rows = rows

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self.prepared:
            return await super().prepare(request)
        writer = await super().prepare(request)
        await self.write(csv_lines([roster.CSV_HEADER]))
        async for chunk in self._rows:
            await self.write(csv_lines(_csv_row(row) for row in chunk))
        return writer


def _csv_row(row: Sequence[Any]) -> tuple[Any, ...]:
    user_id, name, enrolled, completed, progress, active, last = row[:7]
    return (
        user_id,
        name,
        _timestamp(enrolled),
        _timestamp(completed),
        f"{min(progress, 100.0):.2f}",
        "true" if active else "false",
        _timestamp(last),
    )


def _timestamp(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


# A cell a spreadsheet would take for a formula (a name or a title typed as `=HYPERLINK(...)`).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, written as text ('=...)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_lines(rows: Any) -> bytes:
    """CSV lines of `rows`, each text cell that would start a formula made inert."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [_inert(cell) for cell in row] for row in rows
    )
    return buffer.getvalue().encode()
