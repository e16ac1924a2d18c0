"""A statement sent straight to asyncpg (models/driver.py) behaves as SQLAlchemy's execution
would: the same rows, heard by the engine's listeners, refused on the read-only engine when
it writes, a uniqueness violation as SQLAlchemy's IntegrityError, and its connection back
in the pool."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, literal, select
from sqlalchemy.exc import IntegrityError

from models.base import utcnow
from models.courses.tables import Category
from models.driver import driver_rows
from models.listing import read_rows
from models.read_only import WriteInReadOnlyUnit
from tests.conftest import TENANT_A, TENANT_B
from web.keys import DATABASES

pytestmark = pytest.mark.parametrize("backend", ["postgres"])

CATEGORIES = Category.__table__
NAMED = select(CATEGORIES.c.id, CATEGORIES.c.name, CATEGORIES.c.slug).where(
    CATEGORIES.c.name.like(literal("Cat%"))
)
# Every value bound: Python-side column defaults are SQLAlchemy's execution's to apply.
STAMPS = {"created_at": bindparam("at"), "updated_at": bindparam("at")}
ADD = insert(CATEGORIES).values(name="Cat", slug="cat", description="", **STAMPS)
ADD_NAMED = insert(CATEGORIES).values(
    name=bindparam("name"), slug=bindparam("slug"), description="", **STAMPS
)


async def add_category(app: Any, tenant: str, name: str) -> None:
    writes = app[DATABASES].tenant_single_statements(tenant)
    slug = name.lower().replace(" ", "-")
    await driver_rows(writes, ADD_NAMED, {"name": name, "slug": slug, "at": utcnow()})


async def test_the_rows_are_those_sqlalchemy_reads(app, api):
    for name in ("Cat one", "Cat two", "Dog"):
        await add_category(app, TENANT_A, name)
    reads = app[DATABASES].tenant_reads(TENANT_A)

    straight = await driver_rows(reads, NAMED, {})
    through_sqlalchemy = await read_rows(reads, NAMED, {})

    assert [tuple(row) for row in straight] == [tuple(row) for row in through_sqlalchemy]
    assert [row["name"] for row in straight] == ["Cat one", "Cat two"]


async def test_each_tenant_reads_its_own_schema_through_one_compiled_statement(app, api):
    await add_category(app, TENANT_A, "Cat of acme")
    databases = app[DATABASES]

    acme = await driver_rows(databases.tenant_reads(TENANT_A), NAMED, {})
    globex = await driver_rows(databases.tenant_reads(TENANT_B), NAMED, {})

    assert [row["name"] for row in acme] == ["Cat of acme"]
    assert globex == []


async def test_the_engines_listeners_hear_the_statement(app, api):
    reads = app[DATABASES].tenant_reads(TENANT_A)
    heard: list[str] = []

    def listener(*args: Any) -> None:
        heard.append(args[2])

    event.listen(reads.sync_engine, "before_cursor_execute", listener)
    try:
        await driver_rows(reads, NAMED, {})
    finally:
        event.remove(reads.sync_engine, "before_cursor_execute", listener)

    assert len(heard) == 1 and "FROM acme.categories" in heard[0]


async def test_a_write_on_the_read_only_engine_is_refused_before_it_is_sent(app, api):
    reads = app[DATABASES].tenant_reads(TENANT_A)

    with pytest.raises(WriteInReadOnlyUnit):
        await driver_rows(reads, ADD, {"at": utcnow()})

    assert await driver_rows(reads, NAMED, {}) == []


async def test_a_uniqueness_violation_is_sqlalchemys_integrity_error(app, api):
    writes = app[DATABASES].tenant_single_statements(TENANT_A)
    await driver_rows(writes, ADD, {"at": utcnow()})

    with pytest.raises(IntegrityError):
        await driver_rows(writes, ADD, {"at": utcnow()})

    assert len(await driver_rows(writes, NAMED, {})) == 1


async def test_every_connection_goes_back_to_the_pool(app, api):
    reads = app[DATABASES].tenant_reads(TENANT_A)
    pool = reads.sync_engine.pool
    await driver_rows(reads, NAMED, {})
    before = pool.checkedout()

    writes = app[DATABASES].tenant_single_statements(TENANT_A)
    await driver_rows(writes, ADD, {"at": utcnow()})
    for _ in range(50):
        await driver_rows(reads, NAMED, {})
        with pytest.raises(IntegrityError):
            await driver_rows(writes, ADD, {"at": utcnow()})

    assert pool.checkedout() == before == 0
