"""Slugs derived from titles, unique per tenant."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Index, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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
    taken = await session.scalars(
        select(column).where(or_(column == base, column.like(f"{base}-%")))
    )
    return first_free_slug(base, set(taken.all()))


def first_free_slug(base: str, taken: set[str]) -> str:
    """`base`, or the first `base-N` (N from 2) not in `taken`: the slugs equal to `base` or
    like `base-%` (a slug holds only a-z, 0-9 and '-', so LIKE needs no escaping)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
