"""Which statements a read-only unit of work refuses: those that change data or schema."""

from __future__ import annotations

import pytest

from models.read_only import writes


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO categories (name) VALUES (?)",
        "  update courses SET title = ?",
        "DELETE FROM carts WHERE id = ?",
        "WITH gone AS (SELECT id FROM carts) DELETE FROM cart_items WHERE cart_id IN gone",
        "CREATE TABLE t (id INTEGER)",
        "TRUNCATE acme.courses",
    ],
)
def test_a_statement_that_changes_data_or_schema_writes(statement):
    assert writes(statement, None)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT id, updated_at, created_at FROM courses",
        "WITH recent AS (SELECT id FROM posts) SELECT count(*) FROM recent",
        "SELECT deleted FROM insertions",
    ],
)
def test_a_query_that_only_reads_does_not_write(statement):
    assert not writes(statement, None)
