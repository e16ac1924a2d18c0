"""Which database a session talks to, and its INSERT with ON CONFLICT (PostgreSQL's or
SQLite's: SQLAlchemy has one per dialect)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def dialect_of(session: AsyncSession | Session) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def conflict_insert(dialect: str) -> Any:
    """`insert` with `on_conflict_do_nothing` / `on_conflict_do_update` for `dialect`."""
    return pg_insert if dialect == "postgresql" else sqlite_insert
