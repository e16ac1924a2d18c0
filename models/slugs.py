"""Slugs derived from titles, unique per tenant."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, Index, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.dialects import dialect_of

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_prefix_index(table: str) -> Index:
    """The index `unique_slug`'s `LIKE 'base-%'` can use on PostgreSQL (pattern ops: any
    collation); without it every create scans the whole table (seen in the create bench)."""
    return Index(f"ix_{table}_slug_prefix", "slug", postgresql_ops={"slug": "varchar_pattern_ops"})


def slugify(title: str, *, fallback: str = "item", max_length: int = 200) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:max_length].strip("-")
    return slug or fallback


async def unique_slug(session: AsyncSession, column: Any, title: str, *, fallback: str) -> str:
    """The title's slug, or the first free `slug-N` when another row has it."""
    base = slugify(title, fallback=fallback)
    if dialect_of(session) == "postgresql":
        suffixed = between_patterns(column, *suffixed_range(base))
    else:
        suffixed = column.like(f"{base}-%")
    taken = await session.scalars(select(column).where(or_(column == base, suffixed)))
    return first_free_slug(base, set(taken.all()))


def suffixed_range(base: str) -> tuple[str, str]:
    """The slugs `base-...` as the byte range [`base-`, `base.`): '.' follows '-'."""
    return f"{base}-", f"{base}."


def between_patterns(column: Any, low: Any, high: Any) -> ColumnElement[bool]:
    """`low <= column < high` byte for byte (PostgreSQL's pattern operators), which the
    `slug_prefix_index` serves whether the bounds are values or bound parameters. A
    prepared `LIKE $1` cannot use it once PostgreSQL plans it generically (after five
    runs): it does not know the pattern's prefix, and every create scanned the table."""
    return and_(column.op("~>=~")(low), column.op("~<~")(high))


def first_free_slug(base: str, taken: set[str]) -> str:
    """`base`, or the first `base-N` (N from 2) not in `taken`: the slugs equal to `base` or
    like `base-%` (a slug holds only a-z, 0-9 and '-', so LIKE needs no escaping)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
