"""The cart (one per user, one line per course, one currency) and checkout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models.base import utcnow
from models.carts.schemas import CartItemCreate, CheckoutBody
from models.carts.tables import Cart, CartItem
from models.courses.enrollments import find_enrollment
from models.courses.operations import access_course
from models.courses.tables import Course
from models.errors import BadRequest, Conflict, NotFound, ValidationFailed, invalid_pk
from models.fields import cents_to_money
from models.identity import Principal
from models.listing import Listing
from models.logs.operations import record_activity, record_activity_on
from models.payments.gateways import choose_gateway
from models.payments.orders import (
    fail_order,
    find_replay,
    fulfil_order,
    new_reference,
    request_hash,
    test_note,
)
from models.payments.providers import ProviderRefused, start_payment
from models.payments.purchases import has_purchased
from models.payments.tables import Order, OrderLine
from models.settings import Settings
from models.unique import add_unique

FREE_COURSE = "Free courses need no purchase; enroll directly."
ALREADY_ENROLLED = "You are already enrolled in this course."
ALREADY_BOUGHT = "You have already bought this course; enroll in it directly."
EMPTY_CART = "Your cart is empty."
REUSED_KEY = "This Idempotency-Key was already used for a different checkout request."


def line_fields(item: CartItem) -> dict[str, Any]:
    course = item.course
    return {
        "id": item.id,
        "course": item.course_id,
        "title": course.title,
        "price": cents_to_money(course.current_price_cents),
        "currency": course.currency,
        "quantity": item.quantity,
    }


def cart_fields(cart: Cart, items: list[CartItem]) -> dict[str, Any]:
    """Lines and totals; a cart whose lines disagree on currency has no total (and no checkout)."""
    currencies = {item.course.currency for item in items}
    single = next(iter(currencies)) if len(currencies) == 1 else None
    return {
        "id": cart.id,
        "items": [line_fields(item) for item in items],
        "total": (
            cents_to_money(sum(item.course.current_price_cents for item in items))
            if len(currencies) <= 1
            else None
        ),
        "currency": single,
        "item_count": len(items),
    }


async def _cart(session: AsyncSession, *, user_id: str, create: bool) -> Cart | None:
    cart = (await session.scalars(select(Cart).where(Cart.user_id == user_id))).one_or_none()
    if cart is not None or not create:
        return cart
    # Two first requests of one user race on the unique user_id: one cart either way.
    cart, _ = await add_unique(
        session,
        Cart(user_id=user_id),
        lambda: session.scalar(select(Cart).where(Cart.user_id == user_id)),
    )
    return cart


CART_ITEMS = Listing(default=(CartItem.id,))


def cart_items_query(actor: Principal) -> Select[Any]:
    """My lines, oldest first (each user sees only their own cart, admins included)."""
    stmt = (
        select(CartItem)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(Cart.user_id == actor.user_id)
        .options(joinedload(CartItem.course))
    )
    return CART_ITEMS.apply(stmt)


async def _items(session: AsyncSession, actor: Principal) -> list[CartItem]:
    return list((await session.scalars(cart_items_query(actor))).all())


async def access_cart(session: AsyncSession, *, actor: Principal) -> tuple[Cart, list[CartItem]]:
    """My cart (made on first use) and its lines."""
    cart = await _cart(session, user_id=actor.user_id, create=True)
    assert cart is not None
    return cart, await _items(session, actor)


async def access_cart_item(session: AsyncSession, *, actor: Principal, item_id: int) -> CartItem:
    stmt = cart_items_query(actor).where(CartItem.id == item_id)
    item: CartItem | None = (await session.scalars(stmt)).one_or_none()
    if item is None:
        raise NotFound()
    return item


async def access_buyable_course(
    session: AsyncSession, *, actor: Principal, course_id: int
) -> Course:
    """The course a new cart line names, if the actor may see it (else a 400 on `course`)."""
    try:
        return await access_course(session, actor=actor, course_id=course_id)
    except NotFound:
        # A body field naming nothing is a 400, as DRF's PrimaryKeyRelatedField words it.
        raise ValidationFailed.field("course", invalid_pk(course_id)) from None


async def _check_not_owned(session: AsyncSession, *, user_id: str, course: Course) -> None:
    enrollment = await find_enrollment(session, user_id=user_id, course_id=course.id)
    if enrollment is not None and enrollment.is_active:
        raise Conflict(ALREADY_ENROLLED)
    if await has_purchased(session, user_id=user_id, course_id=course.id):
        raise Conflict(ALREADY_BOUGHT)


def _line_of(items: list[CartItem], course: Course) -> CartItem | None:
    return next((item for item in items if item.course_id == course.id), None)


async def check_cart_addition(
    session: AsyncSession, *, actor: Principal, course: Course, items: list[CartItem]
) -> None:
    """A course joins the cart's lines (`items`) if it is not free (400), not owned (409),
    and in the lines' currency (400); one already there is let through: it is not added."""
    if _line_of(items, course) is not None:
        return
    if course.current_price_cents == 0:
        raise ValidationFailed.field("course", FREE_COURSE)
    await _check_not_owned(session, user_id=actor.user_id, course=course)
    others = sorted({item.course.currency for item in items} - {course.currency})
    if others:
        raise ValidationFailed.field(
            "course",
            f"This course is priced in {course.currency} but your cart holds courses in "
            f"{', '.join(others)}: one currency per order. Check out or empty the cart first.",
        )


async def do_add_to_cart(
    session: AsyncSession,
    *,
    actor: Principal,
    cart: Cart,
    items: list[CartItem],
    course: Course,
    data: CartItemCreate,
) -> tuple[CartItem, bool]:
    """Add a course `check_cart_addition` passed to the cart `access_cart` returned (with
    its lines); returns the line and whether it is new (a course already there: not new)."""
    existing = _line_of(items, course)
    if existing is not None:
        return existing, False
    # The same course added by a concurrent request: its line is this one.
    item, created = await add_unique(
        session,
        CartItem(cart_id=cart.id, course_id=course.id, quantity=data.quantity),
        lambda: _line_for(session, actor=actor, course_id=course.id),
    )
    if not created:
        return item, False
    item.course = course
    record_activity_on(
        session,
        actor,
        ("course", course.id),
        "cart_item_added",
        f"Added {course.title!r} to the cart.",
    )
    return item, True


async def _line_for(session: AsyncSession, *, actor: Principal, course_id: int) -> CartItem:
    stmt = cart_items_query(actor).where(CartItem.course_id == course_id)
    item: CartItem = (await session.scalars(stmt)).one()
    return item


async def do_remove_cart_item(session: AsyncSession, *, actor: Principal, item: CartItem) -> None:
    """Remove a line `access_cart_item` returned."""
    await session.delete(item)
    await session.flush()
    record_activity_on(
        session,
        actor,
        ("course", item.course_id),
        "cart_item_removed",
        f"Removed {item.course.title!r} from the cart.",
    )


async def do_empty_cart(session: AsyncSession, *, actor: Principal) -> None:
    cart = await _cart(session, user_id=actor.user_id, create=False)
    if cart is not None:
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))


# Checkout


@dataclass(frozen=True, slots=True)
class CheckoutOutcome:
    order: Order
    replayed: bool


async def do_checkout(
    session: AsyncSession,
    *,
    actor: Principal,
    data: CheckoutBody,
    idempotency_key: str | None,
    settings: Settings,
) -> CheckoutOutcome:
    """Snapshot the cart into an order and charge it.

    Dummy (and a total of zero) is paid at once and fulfilled in this transaction; Stripe
    leaves the order pending with a PaymentIntent, fulfilled by its webhook. A provider that
    refuses leaves the order failed (the caller keeps it) and the cart as it was. The same
    Idempotency-Key from the same user returns the first order, whatever it became.
    """
    fingerprint = request_hash(data.fingerprint())
    # Serializes one user's checkouts (a double click, a retry racing the first): the second
    # waits here, then finds the first's order (same key) or an emptied cart.
    await session.execute(
        update(Cart)
        .where(Cart.user_id == actor.user_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if idempotency_key is not None:
        first = await find_replay(session, user_id=actor.user_id, idempotency_key=idempotency_key)
        if first is not None:
            if first.request_hash != fingerprint:
                raise Conflict(REUSED_KEY)
            return CheckoutOutcome(first, replayed=True)
    items = await _items(session, actor)
    if not items:
        raise BadRequest(EMPTY_CART)
    currencies = sorted({item.course.currency for item in items})
    if len(currencies) > 1:
        raise BadRequest(
            f"Your cart holds courses in several currencies ({', '.join(currencies)}): "
            "one currency per order. Remove the others first."
        )
    for item in items:
        await _check_not_owned(session, user_id=actor.user_id, course=item.course)
    total = sum(item.course.current_price_cents for item in items)
    gateway = None
    if total > 0:
        gateway = await choose_gateway(session, actor=actor, payment_method=data.payment_method)
    order = Order(
        reference=new_reference(),
        user_id=actor.user_id,
        status="pending",
        provider=gateway.provider if gateway is not None else "free",
        gateway_id=gateway.id if gateway is not None else None,
        is_test=gateway.is_test_mode if gateway is not None else False,
        amount_cents=total,
        currency=currencies[0],
        billing_address=(
            data.billing_address.model_dump(exclude_defaults=True) if data.billing_address else {}
        ),
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        lines=[
            OrderLine(
                course_id=item.course_id,
                title=item.course.title,
                price_cents=item.course.current_price_cents,
                quantity=item.quantity,
            )
            for item in items
        ],
    )
    try:
        async with session.begin_nested():
            session.add(order)
            await session.flush()
    except IntegrityError:
        # The same key from a concurrent request of this user: its order is the answer.
        if idempotency_key is None:
            raise
        winner = await find_replay(session, user_id=actor.user_id, idempotency_key=idempotency_key)
        if winner is None:
            raise
        return CheckoutOutcome(winner, replayed=True)
    record_activity(
        session,
        user_id=actor.user_id,
        activity_type="cart_checkout",
        details=f"Checked out {len(items)} course(s) for {cents_to_money(total)} "
        f"{order.currency} (order {order.id}{test_note(order)}).",
        object_type="order",
        object_id=order.id,
    )
    if gateway is None:
        await fulfil_order(session, tenant=actor.tenant, order_id=order.id)
        return CheckoutOutcome(order, replayed=False)
    try:
        started = await start_payment(gateway, order=order, tenant=actor.tenant, settings=settings)
    except ProviderRefused as exc:
        await fail_order(session, order_id=order.id, reason=str(exc))
        return CheckoutOutcome(order, replayed=False)
    if started.paid:
        await fulfil_order(session, tenant=actor.tenant, order_id=order.id)
    else:
        order.payment_intent_id = started.intent_id
        order.client_secret = started.client_secret
        await session.flush()
    return CheckoutOutcome(order, replayed=False)
