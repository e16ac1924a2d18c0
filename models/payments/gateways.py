"""Payment gateways: admin-only configuration, sealed credentials, one default per tenant."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound, PermissionDenied, ValidationFailed
from models.identity import Principal
from models.listing import Listing
from models.payments.crypto import CredentialError, seal, unseal
from models.payments.schemas import GatewayCreate, GatewayQuery, GatewayUpdate
from models.payments.tables import PROVIDERS, PaymentGateway
from models.settings import Settings
from models.validation import check_changes

CREDENTIALS = ("secret_key", "publishable_key", "webhook_secret")
# What a Stripe credential starts with: a key pasted into the wrong field is caught here.
STRIPE_PREFIXES = {
    "secret_key": ("sk_", "rk_"),
    "publishable_key": ("pk_",),
    "webhook_secret": ("whsec_",),
}
# Which mode a Stripe key belongs to, by gateway mode (is_test_mode); restricted keys (rk_)
# are secret keys too.
MODE_PREFIXES: dict[str, dict[bool, tuple[str, ...]]] = {
    "secret_key": {True: ("sk_test_", "rk_test_"), False: ("sk_live_", "rk_live_")},
    "publishable_key": {True: ("pk_test_",), False: ("pk_live_",)},
}
NO_PROVIDER = "Choose a provider: stripe or dummy (or name the gateway after one)."
DUMMY_IS_TEST_ONLY = (
    "A Dummy gateway approves every payment without charging: it can only be in test mode."
)


def check_admin(actor: Principal) -> None:
    """Gateways are for admins only."""
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


GATEWAYS = Listing(
    filters={"provider": PaymentGateway.provider, "is_active": PaymentGateway.is_active},
    default=(PaymentGateway.id,),
)


def gateways_query(actor: Principal, query: GatewayQuery) -> Select[Any]:
    check_admin(actor)
    return GATEWAYS.apply(select(PaymentGateway), query)


async def access_gateway(
    session: AsyncSession, *, actor: Principal, gateway_id: int
) -> PaymentGateway:
    check_admin(actor)
    gateway = await session.get(PaymentGateway, gateway_id)
    if gateway is None:
        raise NotFound()
    return gateway


def _mode(is_test_mode: bool) -> str:
    return "test" if is_test_mode else "live"


def _credential_errors(is_test_mode: bool, values: dict[str, str | None]) -> dict[str, list[str]]:
    """A Stripe credential in the wrong field, or of the other mode than the gateway's."""
    errors: dict[str, list[str]] = {}
    mode = _mode(is_test_mode)
    for name, value in values.items():
        if not value or name not in STRIPE_PREFIXES:
            continue
        label = name.replace("_", " ")
        if not value.startswith(STRIPE_PREFIXES[name]):
            errors[name] = [f"A Stripe {label} starts with {' or '.join(STRIPE_PREFIXES[name])}."]
        elif name in MODE_PREFIXES and not value.startswith(MODE_PREFIXES[name][is_test_mode]):
            prefixes = " or ".join(MODE_PREFIXES[name][is_test_mode])
            errors[name] = [f"A Stripe gateway in {mode} mode takes a {mode} {label} ({prefixes})."]
    return errors


def key_matches_mode(gateway: PaymentGateway, secret_key: str) -> bool:
    """Whether a Stripe secret key belongs to the gateway's mode (test keys never charge)."""
    return secret_key.startswith(MODE_PREFIXES["secret_key"][gateway.is_test_mode])


def _stored_credentials(settings: Settings, gateway: PaymentGateway) -> dict[str, str | None]:
    """The stored keys whose prefix tells their mode; one that cannot be read is skipped
    (charging through it is refused anyway)."""
    stored: dict[str, str | None] = {}
    for name in MODE_PREFIXES:
        try:
            stored[name] = credential(settings, gateway, name)
        except CredentialError:
            continue
    return stored


def _check_mode(provider: str, is_test_mode: bool, credentials: dict[str, str | None]) -> None:
    """A Dummy gateway approves without charging: in live mode it would give courses away."""
    if provider == "dummy" and not is_test_mode:
        raise ValidationFailed.field("is_test_mode", DUMMY_IS_TEST_ONLY)
    if provider == "stripe":
        errors = _credential_errors(is_test_mode, credentials)
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
    session: AsyncSession, *, data: GatewayCreate, settings: Settings
) -> PaymentGateway:
    provider = data.provider or provider_from_name(data.name)
    if provider is None:
        raise ValidationFailed.field("provider", NO_PROVIDER)
    values = data.model_dump(include=set(CREDENTIALS))
    _check_mode(provider, data.is_test_mode, values)
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
    gateway: PaymentGateway,
    data: GatewayUpdate,
    settings: Settings,
) -> PaymentGateway:
    """Change what is sent; a credential sent as null or "" is cleared."""
    changes = check_changes(data)
    credentials = {name: changes.pop(name) for name in CREDENTIALS if name in changes}
    if "provider" in changes and changes["provider"] is None:
        changes["provider"] = provider_from_name(changes.get("name", gateway.name))
        if changes["provider"] is None:
            raise ValidationFailed.field("provider", NO_PROVIDER)
    provider = changes.get("provider", gateway.provider)
    is_test_mode = changes.get("is_test_mode", gateway.is_test_mode)
    if (provider, is_test_mode) != (gateway.provider, gateway.is_test_mode):
        # The stored keys must suit the new mode too; a row that mismatched before these
        # rules can still be renamed or switched off.
        credentials = {**_stored_credentials(settings, gateway), **credentials}
    _check_mode(provider, is_test_mode, credentials)
    if changes.get("is_default"):
        await _unset_other_defaults(session, gateway.id)
    for name, value in changes.items():
        setattr(gateway, name, "" if name == "description" and value is None else value)
    _set_credentials(settings, gateway, credentials)
    await session.flush()
    return gateway


async def do_delete_gateway(session: AsyncSession, *, gateway: PaymentGateway) -> None:
    await session.delete(gateway)
    await session.flush()


def _mode_refusal(default: PaymentGateway | None) -> str:
    if default is None:
        return (
            "This shop has no default gateway, so it takes live payments only: "
            "a gateway in test mode cannot be used here."
        )
    if default.is_test_mode:
        return (
            "This shop is in test mode (its default gateway is in test mode): "
            "a gateway taking live payments cannot be used here."
        )
    return (
        "This shop takes live payments (its default gateway is in live mode): "
        "a gateway in test mode cannot be used here."
    )


async def choose_gateway(
    session: AsyncSession, *, actor: Principal, payment_method: str | None
) -> PaymentGateway:
    """`payment_method` names a provider among the active gateways; else the default one.

    A buyer who is not an admin pays only in the mode of the tenant's default gateway
    (active or not; live when there is none), so a test gateway never sells a course in a
    live shop, nor a live one charges real money in a test shop. Admins may use any.
    """
    stmt = select(PaymentGateway).where(PaymentGateway.is_default.is_(True))
    default = (await session.scalars(stmt)).first()
    if payment_method is None:
        if default is None or not default.is_active:
            raise ValidationFailed.field(
                "payment_method",
                "No default payment gateway is configured: name an active one (stripe or dummy).",
            )
        return default
    stmt = (
        select(PaymentGateway)
        .where(PaymentGateway.provider == payment_method, PaymentGateway.is_active.is_(True))
        .order_by(PaymentGateway.is_default.desc(), PaymentGateway.id)
    )
    candidates = list((await session.scalars(stmt)).all())
    if not candidates:
        raise ValidationFailed.field(
            "payment_method", f"No active {payment_method} payment gateway is configured."
        )
    if actor.is_admin:
        return candidates[0]
    shop_is_test = default.is_test_mode if default is not None else False
    for gateway in candidates:
        if gateway.is_test_mode == shop_is_test:
            return gateway
    raise ValidationFailed.field("payment_method", _mode_refusal(default))
