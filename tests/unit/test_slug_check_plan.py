"""The slug check of a create stays an index lookup however PostgreSQL plans it: asyncpg
prepares each statement once, and after five runs PostgreSQL may plan it generically,
without the values; a bound `LIKE $1` then scans the whole table (create throughput fell
from 930 to 350 req/s as 30,000 courses accumulated), the byte range does not."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from models.base import TENANT_SCHEMA
from models.courses.operations import _TAKEN_AND_NEXT_ID

SCHEMA = "acme"
ROWS = 20_000


@pytest.fixture
async def connection(postgres_url: str) -> Any:
    """The tenant's courses with many rows, planned generically (in a transaction rolled
    back at the end)."""
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(
            f"INSERT INTO {SCHEMA}.courses (title, slug, code, description,"
            " short_description, level, status, price_cents, discount_price_cents,"
            " currency, completion_hours, instructor_id, average_rating, rating_count,"
            " created_at, updated_at)"
            " SELECT 'T' || g, 'bench-' || g, 'C' || g, '', '', 'Beginner', 'Draft', 0,"
            f" NULL, 'USD', 0, 'i', 0, 0, now(), now() FROM generate_series(1, {ROWS}) g"
        )
        await connection.execute(f"ANALYZE {SCHEMA}.courses")
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def test_the_course_create_check_uses_an_index_when_planned_generically(
    connection: Any,
) -> None:
    compiled = _TAKEN_AND_NEXT_ID.compile(
        dialect=postgresql.asyncpg.dialect(), schema_translate_map={TENANT_SCHEMA: SCHEMA}
    )
    sql = str(compiled).replace(f"__[SCHEMA_{TENANT_SCHEMA}]", SCHEMA)  # as the engine does
    names = compiled.positiontup or []
    values = {"code": "X1", "slug": "bench-7", "slug_n": "bench-7-%"}
    values["slug_low"], values["slug_high"] = "bench-7-", "bench-7."

    await connection.execute(f"PREPARE course_check AS {sql}")
    arguments = ", ".join(f"'{values[name]}'" for name in names)  # test constants, no quotes
    plan = await connection.fetch(f"EXPLAIN EXECUTE course_check({arguments})")

    text = "\n".join(row[0] for row in plan)
    assert "Seq Scan on courses" not in text, text
    assert "Index" in text, text
