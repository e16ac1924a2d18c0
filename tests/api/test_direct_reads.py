"""On PostgreSQL the course list is read straight through asyncpg (models/direct_reads.py):
it must give exactly the pages the session path gives, for every user and shape."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from models.direct_reads import DirectReads
from tests.conftest import TENANT_A
from web.keys import DIRECT_READS

COURSES = "/api/lms/courses/courses/"
SHAPES = [
    ("admin", ""),
    ("student", ""),
    ("instructor", ""),
    ("instructor", "?level=Beginner"),
    ("student", "?level=Advanced&ordering=title"),
    ("student", "?ordering=-price&page_size=2&page=2"),
    ("admin", "?status=Draft"),
    ("student", "?currency=EUR&ordering=-completion_hours,title"),
    ("student", "?page=9"),
]


@pytest.fixture
async def catalogue(make: Any) -> None:
    await make.course(title="Drafted", status="Draft", as_="instructor")
    await make.course(title="Other draft", status="Draft", as_="instructor2")
    await make.course(title="Basics", level="Beginner", price="10.00")
    await make.course(title="Deep", level="Advanced", price="90.00", currency="EUR")
    await make.course(title="Middle", level="Intermediate", price="50.00", discount_price="5.00")
    await make.course(title="Also deep", level="Advanced", price="70.00", currency="EUR")


@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgresql_serves_the_list_through_the_direct_pool(api, catalogue, monkeypatch):
    calls: list[str] = []
    fetch = DirectReads.fetch

    async def counted(self: DirectReads, sql: str, args: Any) -> Any:
        calls.append(sql)
        return await fetch(self, sql, args)

    monkeypatch.setattr(DirectReads, "fetch", counted)

    reply = await api.get(COURSES, as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 4
    assert len(calls) == 1
    assert f"FROM {TENANT_A}.courses" in calls[0]


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize(("user", "query"), SHAPES)
async def test_the_direct_path_gives_the_session_paths_page(
    api, custom_api, catalogue, user, query
):
    through_session = await custom_api(db_direct_pool_size=0)

    direct = await api.get(COURSES + query, as_=user)
    general = await through_session.get(COURSES + query, as_=user)

    assert direct.status == general.status
    assert _without_host(direct.body) == _without_host(general.body)


@pytest.mark.parametrize("backend", ["postgres"])
async def test_each_tenant_lists_from_its_own_schema(api, make):
    await make.course(title="Only in A")

    in_b = await api.get(COURSES, as_="b_student")
    in_a = await api.get(COURSES, as_="student")

    assert in_b.body["count"] == 0
    assert [row["title"] for row in in_a.body["results"]] == ["Only in A"]


async def test_the_embedded_database_has_no_direct_pool(api, backend):
    assert (DIRECT_READS in api.client.app) is (backend == "postgres")


async def test_a_direct_pool_only_for_asyncpg_and_a_positive_size():
    sqlite = make_url("sqlite+aiosqlite:///var/x.db")
    postgres = make_url("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")

    assert await DirectReads.open(sqlite, size=10) is None
    assert await DirectReads.open(postgres, size=0) is None


def _without_host(body: Any) -> Any:
    """The two apps answer on different ports: compare the links by their query only."""
    if not isinstance(body, dict):
        return body
    return {
        key: (value.split("?", 1)[-1] if key in ("next", "previous") and value else value)
        for key, value in body.items()
    }
