"""Routes: the cart, its lines, and checkout."""

from __future__ import annotations

from aiohttp import web

from models.carts import operations as carts
from models.carts.schemas import (
    CartItemCreate,
    CartItemRead,
    CartItemReplace,
    CartItemUpdate,
    CartRead,
    CheckoutBody,
)
from models.errors import BadRequest
from models.payments.orders import checkout_fields
from models.payments.schemas import CheckoutResult
from web.handlers import actor, no_content, ok, path_id, read_update, render, session, unit_of_work
from web.jsonio import json_response, read_body
from web.keys import SETTINGS
from web.pagination import paginated
from web.routing import RouteTable

routes = RouteTable()
TAG = "carts"
ITEMS = "/api/lms/carts/cart-items/"
ITEM = ITEMS + r"{item_id:[0-9]+}/"
CART = "/api/lms/carts/cart/"
CHECKOUT = "/api/lms/carts/checkout/"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request: web.Request) -> str | None:
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not 0 < len(value) <= 255 or not all("!" <= c <= "~" for c in value):
        raise BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters.")
    return value


@routes.read(ITEMS, tag=TAG, response=CartItemRead, paginated=True)
async def list_cart_items(request: web.Request) -> web.Response:
    """The lines of my cart."""
    stmt = carts.cart_items_query(actor(request))
    return ok(
        await paginated(
            request, session(request), stmt, lambda i: render(CartItemRead, carts.line_fields(i))
        )
    )


@routes.route(
    "POST",
    ITEMS,
    tag=TAG,
    body=CartItemCreate,
    response=CartItemRead,
    status=201,
    also=(200,),
    errors=(409,),
)
async def add_cart_item(request: web.Request) -> web.Response:
    """Add a course to my cart: 201, or 200 with the line when it is already there.

    `quantity` must be 1; a free course is a 400 (enroll directly); one I already own a 409;
    one in another currency than my cart's lines a 400 on `course`.
    """
    data = await read_body(request, CartItemCreate)
    course = await carts.access_buyable_course(
        session(request), actor=actor(request), course_id=data.course
    )
    cart, items = await carts.access_cart(session(request), actor=actor(request))
    await carts.check_cart_addition(
        session(request), actor=actor(request), course=course, items=items
    )
    item, created = await carts.do_add_to_cart(
        session(request), actor=actor(request), cart=cart, items=items, course=course, data=data
    )
    return ok(render(CartItemRead, carts.line_fields(item)), status=201 if created else 200)


@routes.read(ITEM, tag=TAG, response=CartItemRead)
async def get_cart_item(request: web.Request) -> web.Response:
    """Retrieve a line of my cart."""
    item = await carts.access_cart_item(
        session(request), actor=actor(request), item_id=path_id(request, "item_id")
    )
    return ok(render(CartItemRead, carts.line_fields(item)))


async def _update_cart_item(request: web.Request) -> web.Response:
    item = await carts.access_cart_item(
        session(request), actor=actor(request), item_id=path_id(request, "item_id")
    )
    await read_update(request, CartItemReplace, CartItemUpdate)  # quantity can only stay 1
    return ok(render(CartItemRead, carts.line_fields(item)))


routes.update_routes(
    ITEM,
    tag=TAG,
    partial=CartItemUpdate,
    whole=CartItemReplace,
    response=CartItemRead,
    summary="Change a line of my cart (quantity stays 1)",
)(_update_cart_item)


@routes.route("DELETE", ITEM, tag=TAG, status=204)
async def remove_cart_item(request: web.Request) -> web.Response:
    """Remove a line from my cart."""
    item = await carts.access_cart_item(
        session(request), actor=actor(request), item_id=path_id(request, "item_id")
    )
    await carts.do_remove_cart_item(session(request), actor=actor(request), item=item)
    return no_content()


@routes.route("GET", CART, tag=TAG, response=CartRead)  # creates the cart: a transaction
async def get_cart(request: web.Request) -> web.Response:
    """My cart: its lines, the total and the currency (decimal strings)."""
    cart, items = await carts.access_cart(session(request), actor=actor(request))
    return ok(render(CartRead, carts.cart_fields(cart, items)))


@routes.route("DELETE", CART, tag=TAG, status=204)
async def empty_cart(request: web.Request) -> web.Response:
    """Empty my cart."""
    await carts.do_empty_cart(session(request), actor=actor(request))
    return no_content()


@routes.route(
    "POST",
    CHECKOUT,
    tag=TAG,
    body=CheckoutBody,
    response=CheckoutResult,
    status=201,
    errors=(409, 502),
    audit="cart_checkout",
)
async def checkout(request: web.Request) -> web.Response:
    """Check out my cart: an order at today's prices, charged through a gateway.

    Dummy: paid at once, enrolled, cart emptied. Stripe: pending, with the PaymentIntent's
    `client_secret`; its webhook completes it. An `Idempotency-Key` header makes a retry
    return the first answer. A provider that refuses: 502, and the order is kept as failed.
    """
    data = await read_body(request, CheckoutBody)
    uow = unit_of_work(request)
    outcome = await carts.do_checkout(
        uow.session,
        actor=actor(request),
        data=data,
        idempotency_key=idempotency_key(request),
        settings=request.app[SETTINGS],
    )
    order = outcome.order
    if order.status == "failed":
        # Kept, so the failure is on record and a retry with the same key gets the same answer.
        await uow.commit()
        body = {"detail": order.failure_reason, "status": 502, "order_id": order.id}
        return json_response(body, status=502)
    return ok(render(CheckoutResult, checkout_fields(order)), status=201)
