"""Inserting a row guarded by a unique key, when a concurrent request may insert it first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


async def add_unique(
    session: AsyncSession, row: RowT, find_winner: Callable[[], Awaitable[RowT | None]]
) -> tuple[RowT, bool]:
    """Insert `row`; if another transaction won the unique key, return its row instead.

    The savepoint keeps the losing insert from spoiling the rest of the transaction.
    Returns the row and whether this call created it.
    """
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        winner = await find_winner()
        if winner is None:
            raise
        return winner, False
    return row, True
