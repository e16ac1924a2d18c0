"""Payment gateways: admin-only configuration, sealed credentials, one default per tenant."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound, PermissionDenied, ValidationFailed
from models.identity import Principal
from models.payments.crypto import seal, unseal
from models.payments.schemas import GatewayCreate, GatewayQuery, GatewayUpdate
from models.payments.tables import PROVIDERS, PaymentGateway
from models.settings import Settings

CREDENTIALS = ("secret_key", "publishable_key", "webhook_secret")
# What a Stripe credential starts with: a key pasted into the wrong field is caught here.
STRIPE_PREFIXES = {
    "secret_key": ("sk_", "rk_"),
    "publishable_key": ("pk_",),
    "webhook_secret": ("whsec_",),
}
NO_PROVIDER = "Choose a provider: stripe or dummy (or name the gateway after one)."


def check_admin(actor: Principal) -> None:
    """Gateways are for admins only (SPEC §2)."""
    if not actor.is_admin:
        raise PermissionDenied()


def provider_from_name(name: str) -> str | None:
    """The provider a gateway's name names ("Stripe", "Dummy gateway"), when exactly one."""
    words = set(re.findall(r"[a-z]+", name.lower()))
    named = [provider for provider in PROVIDERS if provider in words]
    return named[0] if len(named) == 1 else None


def gateway_fields(gateway: PaymentGateway) -> dict[str, Any]:
    """The readable fields: credentials only as whether they are set."""
    return {
        "id": gateway.id,
        "name": gateway.name,
        "description": gateway.description,
        "provider": gateway.provider,
        "is_active": gateway.is_active,
        "is_test_mode": gateway.is_test_mode,
        "is_default": gateway.is_default,
        "has_secret_key": gateway.secret_key_sealed is not None,
        "has_publishable_key": gateway.publishable_key_sealed is not None,
        "has_webhook_secret": gateway.webhook_secret_sealed is not None,
        "created_at": gateway.created_at,
        "updated_at": gateway.updated_at,
    }


def credential(settings: Settings, gateway: PaymentGateway, name: str) -> str | None:
    """A gateway's credential in plain text, for talking to its provider (never to a client)."""
    sealed: str | None = getattr(gateway, f"{name}_sealed")
    return unseal(settings, sealed) if sealed is not None else None


def gateways_query(actor: Principal, query: GatewayQuery) -> Select[Any]:
    check_admin(actor)
    stmt = select(PaymentGateway)
    if query.provider is not None:
        stmt = stmt.where(PaymentGateway.provider == query.provider)
    if query.is_active is not None:
        stmt = stmt.where(PaymentGateway.is_active.is_(query.is_active))
    return stmt.order_by(PaymentGateway.id)


async def access_gateway(
    session: AsyncSession, *, actor: Principal, gateway_id: int
) -> PaymentGateway:
    check_admin(actor)
    gateway = await session.get(PaymentGateway, gateway_id)
    if gateway is None:
        raise NotFound()
    return gateway


def _check_credentials(provider: str, values: dict[str, str | None]) -> None:
    if provider != "stripe":
        return
    errors = {
        name: [f"A Stripe {name.replace('_', ' ')} starts with {' or '.join(prefixes)}."]
        for name, prefixes in STRIPE_PREFIXES.items()
        if values.get(name) and not str(values[name]).startswith(prefixes)
    }
    if errors:
        raise ValidationFailed(errors)


def _set_credentials(settings: Settings, gateway: PaymentGateway, values: dict[str, Any]) -> None:
    for name in CREDENTIALS:
        if name in values:
            value = values[name]
            setattr(gateway, f"{name}_sealed", seal(settings, value) if value else None)


async def _unset_other_defaults(session: AsyncSession, gateway_id: int | None) -> None:
    # Runs before the new default is flagged: the partial unique index never sees two.
    stmt = update(PaymentGateway).where(PaymentGateway.is_default.is_(True))
    if gateway_id is not None:
        stmt = stmt.where(PaymentGateway.id != gateway_id)
    await session.execute(stmt.values(is_default=False))


async def do_create_gateway(
    session: AsyncSession, *, actor: Principal, data: GatewayCreate, settings: Settings
) -> PaymentGateway:
    check_admin(actor)
    provider = data.provider or provider_from_name(data.name)
    if provider is None:
        raise ValidationFailed.field("provider", NO_PROVIDER)
    values = data.model_dump(include=set(CREDENTIALS))
    _check_credentials(provider, values)
    if data.is_default:
        await _unset_other_defaults(session, None)
    gateway = PaymentGateway(
        name=data.name,
        description=data.description,
        provider=provider,
        is_active=data.is_active,
        is_test_mode=data.is_test_mode,
        is_default=data.is_default,
    )
    _set_credentials(settings, gateway, values)
    session.add(gateway)
    await session.flush()
    return gateway


async def do_update_gateway(
    session: AsyncSession,
    *,
    actor: Principal,
    gateway_id: int,
    data: GatewayUpdate,
    settings: Settings,
) -> PaymentGateway:
    """Change what is sent; a credential sent as null or "" is cleared."""
    gateway = await access_gateway(session, actor=actor, gateway_id=gateway_id)
    changes = data.model_dump(exclude_unset=True)
    credentials = {name: changes.pop(name) for name in CREDENTIALS if name in changes}
    for name in ("name", "provider", "is_active", "is_test_mode", "is_default"):
        if name in changes and changes[name] is None:
            raise ValidationFailed.field(name, "This field may not be null.")
    _check_credentials(changes.get("provider") or gateway.provider, credentials)
    if changes.get("is_default"):
        await _unset_other_defaults(session, gateway.id)
    for name, value in changes.items():
        setattr(gateway, name, "" if name == "description" and value is None else value)
    _set_credentials(settings, gateway, credentials)
    await session.flush()
    return gateway


async def do_delete_gateway(session: AsyncSession, *, actor: Principal, gateway_id: int) -> None:
    gateway = await access_gateway(session, actor=actor, gateway_id=gateway_id)
    await session.delete(gateway)
    await session.flush()


async def choose_gateway(session: AsyncSession, *, payment_method: str | None) -> PaymentGateway:
    """`payment_method` names a provider among the active gateways; else the default one."""
    if payment_method is not None:
        stmt = (
            select(PaymentGateway)
            .where(PaymentGateway.provider == payment_method, PaymentGateway.is_active.is_(True))
            .order_by(PaymentGateway.is_default.desc(), PaymentGateway.id)
            .limit(1)
        )
        gateway = (await session.scalars(stmt)).first()
        if gateway is None:
            raise ValidationFailed.field(
                "payment_method", f"No active {payment_method} payment gateway is configured."
            )
        return gateway
    stmt = select(PaymentGateway).where(
        PaymentGateway.is_default.is_(True), PaymentGateway.is_active.is_(True)
    )
    default = (await session.scalars(stmt)).first()
    if default is None:
        raise ValidationFailed.field(
            "payment_method",
            "No default payment gateway is configured: name an active one (stripe or dummy).",
        )
    return default
