"""The course list runs on the session's own connection, through the tenant's
`schema_translate_map`, one statement kept per shape (models/courses/catalogue.py): it must
give exactly the pages the listing's rules give with the values inline, for every user and
shape, and hit SQLAlchemy's compiled cache once warm."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.interfaces import CacheStats

from models.courses.catalogue import CATALOGUE, ROW_COLUMNS
from models.courses.schemas import CourseQuery
from models.courses.visibility import COURSES, visible_courses
from models.identity import Principal
from tests.conftest import TENANT_A, USERS
from web.keys import DATABASES

COURSES_PATH = "/api/lms/courses/courses/"
SHAPES = [
    ("admin", ""),
    ("student", ""),
    ("instructor", ""),
    ("instructor", "?level=Beginner"),
    ("student", "?level=Advanced&ordering=title"),
    ("student", "?ordering=-price&page_size=2&page=2"),
    ("admin", "?status=Draft"),
    ("student", "?currency=EUR&ordering=-completion_hours,title"),
    ("student", "?search=deep&ordering=title"),
    ("instructor", "?search=DRAFT"),
    ("student", "?search=50%25"),
]


@pytest.fixture
async def catalogue(make: Any) -> None:
    await make.course(title="Drafted", status="Draft", as_="instructor")
    await make.course(title="Other draft", status="Draft", as_="instructor2")
    await make.course(title="Basics", level="Beginner", price="10.00")
    await make.course(title="Deep", level="Advanced", price="90.00", currency="EUR")
    await make.course(title="Middle", level="Intermediate", price="50.00", discount_price="5.00")
    await make.course(title="Also deep", level="Advanced", price="70.00", currency="EUR")


async def _statements(app: Any, api: Any, path: str, as_: str) -> tuple[Any, list[Any]]:
    """The reply, and the execution contexts of the statements it ran on the tenant's bind."""
    seen: list[Any] = []
    engine = app[DATABASES].tenant_sessions(TENANT_A, read_only=True).kw["bind"].sync_engine

    def heard(*args: Any) -> None:
        seen.append(args[4])

    event.listen(engine, "before_cursor_execute", heard)
    try:
        reply = await api.get(path, as_=as_)
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    return reply, seen


async def test_a_page_of_the_list_is_one_statement_on_the_sessions_bind(api, app, catalogue):
    reply, statements = await _statements(app, api, COURSES_PATH, "student")

    assert reply.status == 200
    assert reply.body["count"] == 4
    assert len(statements) == 1


@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgresql_lists_from_the_schema_the_session_translates_to(api, app, catalogue):
    _, [context] = await _statements(app, api, COURSES_PATH, "student")

    assert f"FROM {TENANT_A}.courses" in context.statement


async def test_a_warm_list_hits_the_compiled_cache(api, app, catalogue):
    await api.get(COURSES_PATH + "?level=Advanced", as_="student")

    _, [context] = await _statements(app, api, COURSES_PATH + "?level=Beginner", "student2")

    assert context.cache_hit is CacheStats.CACHE_HIT


@pytest.mark.parametrize(("user", "query"), SHAPES)
async def test_each_shape_gives_the_page_the_listing_gives_inline(api, app, catalogue, user, query):
    reply = await api.get(COURSES_PATH + query, as_=user)

    expected = await _inline(app, user, query)
    assert reply.status == 200
    assert [row["id"] for row in reply.body["results"]] == expected["ids"]
    assert reply.body["count"] == expected["count"]


async def test_a_page_past_the_end_is_invalid(api, catalogue):
    reply = await api.get(COURSES_PATH + "?page=9", as_="student")

    assert reply.status == 404
    assert reply.body == {"detail": "Invalid page.", "status": 404}


async def test_each_tenant_lists_from_its_own_schema(api, make):
    await make.course(title="Only in A")

    in_b = await api.get(COURSES_PATH, as_="b_student")
    in_a = await api.get(COURSES_PATH, as_="student")

    assert in_b.body["count"] == 0
    assert [row["title"] for row in in_a.body["results"]] == ["Only in A"]


async def _inline(app: Any, user: str, query: str) -> dict[str, Any]:
    """The page as `Listing.apply` gives it, values inline, on a session of its own."""
    user_id, roles, tenant = USERS[user]
    actor = Principal(user_id=user_id, tenant=tenant, roles=frozenset(roles))
    params = dict(p.split("=", 1) for p in query.lstrip("?").split("&") if p)
    size, number = int(params.pop("page_size", 20)), int(params.pop("page", 1))
    course_query = CourseQuery.model_validate({k: v.replace("%25", "%") for k, v in params.items()})
    stmt = CATALOGUE.apply(
        select(*(COURSES.c[name] for name in ROW_COLUMNS)).where(visible_courses(actor)),
        course_query,
    )
    async with app[DATABASES].tenant_sessions(tenant)() as session:
        rows = (await session.execute(stmt)).all()
    return {
        "ids": [row.id for row in rows][(number - 1) * size : number * size],
        "count": len(rows),
    }
