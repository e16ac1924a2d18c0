"""Orders: the snapshot a checkout takes, who may see it, and fulfilment (once, however often
it is asked for: by the checkout itself, or by every delivery of a Stripe webhook)."""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.base import utcnow
from models.carts.tables import Cart, CartItem
from models.courses.enrollments import check_enrollment, do_enroll
from models.courses.operations import access_course
from models.errors import NotFound
from models.fields import cents_to_money
from models.identity import Principal
from models.listing import Listing, ListShape, PageRequest, PageResult, counted
from models.logs.operations import record_activity
from models.payments.schemas import OrderQuery
from models.payments.tables import Order
from models.people.names import person_at

log = logging.getLogger(__name__)


def new_reference() -> str:
    return uuid.uuid4().hex


def request_hash(fingerprint: dict[str, Any]) -> str:
    """A digest of what a checkout asked for, to tell a true replay from a reused key."""
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).hexdigest()


def order_fields(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "reference": order.reference,
        "user_id": order.user_id,
        "user": person_at(order, "user_id"),
        "status": order.status,
        "provider": order.provider,
        "is_test": order.is_test,
        "amount": cents_to_money(order.amount_cents),
        "currency": order.currency,
        "lines": [
            {
                "course": line.course_id,
                "title": line.title,
                "price": cents_to_money(line.price_cents),
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        "billing_address": order.billing_address or {},
        "failure_reason": order.failure_reason,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
    }


def test_note(order: Order) -> str:
    """How an order's activity says it was paid in test mode (live ones say nothing)."""
    return ", test mode" if order.is_test else ""


def checkout_fields(order: Order) -> dict[str, Any]:
    """The checkout answer."""
    return {
        "order_id": order.id,
        "status": order.status,
        "amount": cents_to_money(order.amount_cents),
        "currency": order.currency,
        "client_secret": order.client_secret if order.status == "pending" else None,
    }


ORDERS = Listing(
    filters={"status": Order.status, "is_test": Order.is_test},
    default=(Order.created_at.desc(),),
    tiebreak=Order.id.desc(),
)


_OWNER = "lms_owner"  # the user whose orders are listed: the reader, or whom an admin asks for


async def order_page(
    session: AsyncSession, *, actor: Principal, query: OrderQuery, page: PageRequest
) -> PageResult:
    """Mine; admins see everyone's (and may filter by user_id)."""
    of_user = not actor.is_admin or query.user_id is not None
    params = {_OWNER: query.user_id if actor.is_admin else actor.user_id}
    statement = functools.partial(_orders_statement, of_user)
    return await ORDERS.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _orders_statement(of_user: bool, shape: ListShape) -> Select[Any]:
    stmt = select(Order).options(selectinload(Order.lines))
    if of_user:
        stmt = stmt.where(Order.user_id == bindparam(_OWNER))
    return ORDERS.apply_shape(counted(stmt), shape)


async def access_order(session: AsyncSession, *, actor: Principal, order_id: int) -> Order:
    """My order (an admin's: any); someone else's is a 404, so its existence does not leak."""
    order = await session.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None or not (actor.is_admin or order.user_id == actor.user_id):
        raise NotFound()
    return order


async def find_replay(session: AsyncSession, *, user_id: str, idempotency_key: str) -> Order | None:
    stmt = (
        select(Order)
        .options(selectinload(Order.lines))
        .where(Order.user_id == user_id, Order.idempotency_key == idempotency_key)
    )
    return (await session.scalars(stmt)).one_or_none()


async def load_order(session: AsyncSession, *, order_id: int) -> Order | None:
    """The order as stored now, with its lines (whatever this session held before)."""
    stmt = (
        select(Order)
        .options(selectinload(Order.lines))
        .where(Order.id == order_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def _move(
    session: AsyncSession, order_id: int, *, to: str, unless: str, **values: Any
) -> bool:
    """Compare-and-set the status: True only for the one transaction that changed it.

    A conditional UPDATE, not read-then-write: on PostgreSQL a concurrent one waits for the
    row lock and then finds nothing to change; on SQLite (which begins its transaction only
    at the first write) writers are serialized, so the second sees the first's result.
    """
    stmt = (
        update(Order)
        .where(Order.id == order_id, Order.status != unless)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return result.rowcount == 1


async def fulfil_order(session: AsyncSession, *, tenant: str, order_id: int) -> bool:
    """Mark paid, enroll the buyer in every course, empty those cart lines; once.

    Returns whether this call did it (False: it was already done).
    """
    if not await _move(
        session, order_id, to="paid", unless="paid", paid_at=utcnow(), failure_reason=""
    ):
        if await session.get(Order, order_id) is None:
            raise NotFound()
        return False
    order = await load_order(session, order_id=order_id)
    assert order is not None
    buyer = Principal(user_id=order.user_id, tenant=tenant)
    course_ids = [line.course_id for line in order.lines if line.course_id is not None]
    for course_id in course_ids:
        try:
            course = await access_course(session, actor=buyer, course_id=course_id)
        except NotFound:
            # Unpublished since the checkout: the paid line stays, and `has_purchased` lets
            # the buyer enroll once the course is visible again.
            log.warning("order %s: course %s is not visible; not enrolled", order.id, course_id)
            continue
        existing = await check_enrollment(
            session, actor=buyer, course=course, user_id=buyer.user_id, purchased=True
        )
        await do_enroll(
            session, actor=buyer, course=course, user_id=buyer.user_id, existing=existing
        )
    cart_ids = select(Cart.id).where(Cart.user_id == order.user_id)
    await session.execute(
        delete(CartItem)
        .where(CartItem.cart_id.in_(cart_ids), CartItem.course_id.in_(course_ids))
        .execution_options(synchronize_session="fetch")
    )
    record_activity(
        session,
        user_id=order.user_id,
        activity_type="payment_succeeded",
        details=f"Paid {cents_to_money(order.amount_cents)} {order.currency} "
        f"for order {order.id} ({order.provider}{test_note(order)}).",
        object_type="order",
        object_id=order.id,
    )
    await session.flush()
    return True


async def fail_order(session: AsyncSession, *, order_id: int, reason: str) -> bool:
    """Mark a pending order failed; a paid (or already failed) order is left as it is."""
    stmt = (
        update(Order)
        .where(Order.id == order_id, Order.status == "pending")
        .values(status="failed", failure_reason=reason[:1000])
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    if result.rowcount != 1:
        return False
    order = await load_order(session, order_id=order_id)
    assert order is not None
    record_activity(
        session,
        user_id=order.user_id,
        activity_type="payment_failed",
        details=f"Payment for order {order.id}{' (test mode)' if order.is_test else ''} "
        f"failed: {reason[:200]}",
        status="failure",
        object_type="order",
        object_id=order.id,
    )
    return True
