"""`one_of(column, name)`: `column IN (values)` with the values bound at execution, so the
statement holding it is built once; on PostgreSQL one array parameter (`= ANY`), the same
SQL whatever the number of values."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.statements import StatementCounter
from models.one_of import one_of

METADATA = MetaData()
ROWS = Table(
    "one_of_rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    prefixes=["TEMPORARY"],
)
BY_ID = select(ROWS.c.id).where(one_of(ROWS.c.id, "ids")).order_by(ROWS.c.id)
BY_NAME = select(ROWS.c.id).where(one_of(ROWS.c.name, "names")).order_by(ROWS.c.id)


@pytest.fixture
async def connection(database_url: str) -> AsyncIterator[AsyncConnection]:
    """Ten rows (ids 0-9, names n0-n9) in a table of this connection's own."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(METADATA.create_all)
            await connection.execute(ROWS.insert(), [{"id": i, "name": f"n{i}"} for i in range(10)])
            yield connection
    finally:
        await engine.dispose()


async def test_the_rows_whose_value_is_listed_are_selected(connection: AsyncConnection) -> None:
    by_id = await connection.scalars(BY_ID, {"ids": [7, 2, 42]})
    by_name = await connection.scalars(BY_NAME, {"names": ["n4", "n5"]})

    assert (by_id.all(), by_name.all()) == ([2, 7], [4, 5])


async def test_its_table_is_in_the_from_clause_when_nothing_else_names_it(
    connection: AsyncConnection,
) -> None:
    listed = select(func.count()).where(one_of(ROWS.c.id, "ids"))

    assert await connection.scalar(listed, {"ids": [1, 2, 42]}) == 2


async def test_no_values_select_no_row(connection: AsyncConnection) -> None:
    assert (await connection.scalars(BY_ID, {"ids": []})).all() == []


async def test_one_sql_serves_any_number_of_values(connection: AsyncConnection) -> None:
    with StatementCounter() as counter:
        for count in (1, 3, 8):
            await connection.execute(BY_ID, {"ids": list(range(count))})

    if connection.dialect.name == "postgresql":
        assert len(set(counter.statements)) == 1  # one statement prepared, not one a length
    else:
        assert len(set(counter.statements)) == 3  # SQLite: each length its own IN list


def test_postgresql_binds_the_values_as_one_array() -> None:
    sql = str(BY_ID.compile(dialect=postgresql.asyncpg.dialect()))

    assert "= ANY" in sql
    assert "POSTCOMPILE" not in sql


def test_sqlite_expands_the_values_into_an_in_list() -> None:
    sql = str(BY_ID.compile(dialect=sqlite.dialect()))

    assert "IN (__[POSTCOMPILE_ids])" in sql


def test_statements_on_different_columns_do_not_share_a_cache_entry() -> None:
    again = select(ROWS.c.id).where(one_of(ROWS.c.id, "ids")).order_by(ROWS.c.id)

    assert BY_ID._generate_cache_key() == again._generate_cache_key()
    assert BY_ID._generate_cache_key() != BY_NAME._generate_cache_key()
