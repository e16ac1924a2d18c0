"""Routes: payment gateways (admins), orders, and Stripe's webhook."""

from __future__ import annotations

import logging

import orjson
from aiohttp import web

from models.errors import BadRequest
from models.payments import gateways, orders, webhooks
from models.payments.schemas import (
    GatewayCreate,
    GatewayQuery,
    GatewayRead,
    GatewayUpdate,
    OrderQuery,
    OrderRead,
    WebhookAck,
)
from models.payments.tables import PaymentGateway
from web.handlers import actor, no_content, ok, open_unit, path_id, read_update, render, session
from web.jsonio import read_body, read_query
from web.keys import SETTINGS, TENANTS
from web.pagination import page_body, page_request, paginated
from web.routing import RouteTable

log = logging.getLogger(__name__)
routes = RouteTable()
TAG = "payments"
GATEWAYS = "/api/lms/payments/gateways/"
GATEWAY = GATEWAYS + r"{gateway_id:[0-9]+}/"
ORDERS = "/api/lms/payments/orders/"
ORDER = ORDERS + r"{order_id:[0-9]+}/"
STRIPE_WEBHOOK = "/api/lms/payments/webhooks/stripe/"


def gateway_read(gateway: PaymentGateway) -> dict[str, object]:
    return render(GatewayRead, gateways.gateway_fields(gateway))


# Gateways


@routes.read(GATEWAYS, tag=TAG, query=GatewayQuery, response=GatewayRead, paginated=True)
async def list_gateways(request: web.Request) -> web.Response:
    """List payment gateways (admins)."""
    gateways.check_admin(actor(request))
    query = read_query(request, GatewayQuery)
    stmt = gateways.gateways_query(actor(request), query)
    return ok(await paginated(request, session(request), stmt, gateway_read))


@routes.route("POST", GATEWAYS, tag=TAG, body=GatewayCreate, response=GatewayRead, status=201)
async def create_gateway(request: web.Request) -> web.Response:
    """Configure a payment gateway (admins); setting `is_default` unsets the previous default."""
    gateways.check_admin(actor(request))  # as DRF: permission before the body is read
    data = await read_body(request, GatewayCreate)
    gateway = await gateways.do_create_gateway(
        session(request), data=data, settings=request.app[SETTINGS]
    )
    return ok(gateway_read(gateway), status=201)


@routes.read(GATEWAY, tag=TAG, response=GatewayRead)
async def get_gateway(request: web.Request) -> web.Response:
    """Retrieve a payment gateway (admins); credentials show only as has_*."""
    gateway = await gateways.access_gateway(
        session(request), actor=actor(request), gateway_id=path_id(request, "gateway_id")
    )
    return ok(gateway_read(gateway))


async def _update_gateway(request: web.Request) -> web.Response:
    gateway = await gateways.access_gateway(
        session(request), actor=actor(request), gateway_id=path_id(request, "gateway_id")
    )
    data = await read_update(request, GatewayCreate, GatewayUpdate)
    gateway = await gateways.do_update_gateway(
        session(request), gateway=gateway, data=data, settings=request.app[SETTINGS]
    )
    return ok(gateway_read(gateway))


routes.update_routes(
    GATEWAY,
    tag=TAG,
    partial=GatewayUpdate,
    whole=GatewayCreate,
    response=GatewayRead,
    summary="Change a payment gateway (admins)",
)(_update_gateway)


@routes.route("DELETE", GATEWAY, tag=TAG, status=204)
async def delete_gateway(request: web.Request) -> web.Response:
    """Delete a payment gateway (admins); its orders keep their provider."""
    gateway = await gateways.access_gateway(
        session(request), actor=actor(request), gateway_id=path_id(request, "gateway_id")
    )
    await gateways.do_delete_gateway(session(request), gateway=gateway)
    return no_content()


# Orders


@routes.read(ORDERS, tag=TAG, query=OrderQuery, response=OrderRead, paginated=True)
async def list_orders(request: web.Request) -> web.Response:
    """My orders, newest first; admins see everyone's."""
    query = read_query(request, OrderQuery)
    result = await orders.order_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    rows = [render(OrderRead, orders.order_fields(o)) for o in result.rows]
    return ok(page_body(request, result, rows))


@routes.read(ORDER, tag=TAG, response=OrderRead)
async def get_order(request: web.Request) -> web.Response:
    """Retrieve one of my orders (admins: any)."""
    order = await orders.access_order(
        session(request), actor=actor(request), order_id=path_id(request, "order_id")
    )
    return ok(render(OrderRead, orders.order_fields(order)))


# Stripe's webhook: no token; the signature, checked with the tenant's secret, is the proof.


async def _event_tenant(request: web.Request, event: webhooks.StripeEvent) -> str | None:
    """The Host's tenant, else the one the event's metadata names (if it exists)."""
    app = request.app
    host_tenant = await app[TENANTS].tenant_for_host(request.host) if request.host else None
    if host_tenant is not None:
        return host_tenant
    named = event.tenant
    if named is not None and await app[TENANTS].exists(named):
        return named
    return None


@routes.route(
    "POST",
    STRIPE_WEBHOOK,
    tag=TAG,
    response=WebhookAck,
    public=True,
    errors=(400,),
    summary="Stripe webhook (signed; no token)",
)
async def stripe_webhook(request: web.Request) -> web.Response:
    """Verify a Stripe event, store it once, and hand it to a worker."""
    settings = request.app[SETTINGS]
    payload = await request.read()
    try:
        event = webhooks.parse_event(orjson.loads(payload))
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed Stripe event.") from None
    header = request.headers.get("Stripe-Signature")
    tenant = await _event_tenant(request, event)
    if tenant is None:
        # Not one of ours (another system's payment on the same account): acknowledged,
        # so Stripe stops retrying, once the operator's secret proves it came from Stripe.
        secrets = [settings.stripe_webhook_secret] if settings.stripe_webhook_secret else []
        webhooks.verify_signature(
            payload, header, secrets, tolerance=settings.stripe_webhook_tolerance
        )
        log.info("stripe event %s names no tenant; acknowledged and ignored", event.id)
        return ok({"received": True, "duplicate": False})
    async with open_unit(request.app, tenant) as uow:
        secrets = await webhooks.webhook_secrets(uow.session, settings=settings)
        webhooks.verify_signature(
            payload, header, secrets, tolerance=settings.stripe_webhook_tolerance
        )
        created = await webhooks.do_receive_event(uow.session, event=event)
    return ok({"received": True, "duplicate": not created})
