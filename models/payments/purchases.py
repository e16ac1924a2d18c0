"""Whether a user bought a course. Kept apart from orders so enrollments can ask without a cycle."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.payments.tables import Order, OrderLine


async def has_purchased(session: AsyncSession, *, user_id: str, course_id: int) -> bool:
    """A paid order of this user holds a line for this course."""
    stmt = (
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.user_id == user_id,
            Order.status == "paid",
            OrderLine.course_id == course_id,
        )
        .limit(1)
    )
    return await session.scalar(stmt) is not None
