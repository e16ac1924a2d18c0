"""Payment gateways ("Configure Payment Gateway"): admin only, write-only
credentials sealed at rest, one default per tenant."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from models.logs.tables import AuditLog
from models.payments.crypto import unseal
from models.payments.tables import PaymentGateway
from tests.fakes.commerce import (
    GATEWAYS,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    commerce_settings,
    make_gateway,
    make_stripe_gateway,
    settle,
    table_rows,
)
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP
from web.keys import SETTINGS

SEED_GATEWAY = {
    "name": "Stripe",
    "description": "Stripe payment gateway",
    "is_active": True,
    "is_test_mode": True,
    "is_default": True,
}


@pytest.fixture
def settings(settings):
    return commerce_settings(settings)


def gateway_body(**fields: Any) -> dict[str, Any]:
    return {
        "id": ID,
        "name": "Stripe",
        "description": "Stripe payment gateway",
        "provider": "stripe",
        "is_active": True,
        "is_test_mode": True,
        "is_default": True,
        "has_secret_key": False,
        "has_publishable_key": False,
        "has_webhook_secret": False,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        **fields,
    }


def url(gateway_id: int) -> str:
    return f"{GATEWAYS}{gateway_id}/"


async def defaults(api) -> list[int]:
    page = (await api.get(GATEWAYS, as_="admin")).body
    return [g["id"] for g in page["results"] if g["is_default"]]


# Creating


async def test_admin_configures_a_gateway_with_the_seed_body(api):
    reply = await api.post(GATEWAYS, SEED_GATEWAY, as_="admin")

    assert (reply.status, reply.body) == (201, gateway_body())


@pytest.mark.parametrize(
    ("name", "provider"), [("Stripe", "stripe"), ("DUMMY", "dummy"), ("stripe (EU)", "stripe")]
)
async def test_provider_is_taken_from_the_name_case_insensitively(api, name, provider):
    reply = await api.post(GATEWAYS, {**SEED_GATEWAY, "name": name}, as_="admin")

    assert (reply.status, reply.body["provider"]) == (201, provider)


async def test_a_name_naming_no_provider_needs_an_explicit_provider(api):
    reply = await api.post(GATEWAYS, {**SEED_GATEWAY, "name": "Card payments"}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {
            "provider": ["Choose a provider: stripe or dummy (or name the gateway after one)."],
            "status": 400,
        },
    )


async def test_an_explicit_provider_wins_over_the_name(api):
    body = {**SEED_GATEWAY, "name": "Card payments", "provider": "Dummy"}

    reply = await api.post(GATEWAYS, body, as_="admin")

    assert (reply.status, reply.body["provider"]) == (201, "dummy")


async def test_an_unknown_provider_is_400(api):
    reply = await api.post(GATEWAYS, {**SEED_GATEWAY, "provider": "paypal"}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"provider": ['"paypal" is not a valid choice.'], "status": 400},
    )


async def test_a_missing_name_is_400(api):
    reply = await api.post(GATEWAYS, {"provider": "dummy"}, as_="admin")

    assert (reply.status, reply.body) == (400, {"name": ["This field is required."], "status": 400})


# Who may


@pytest.mark.parametrize("who", ["student", "instructor"])
@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "list"),
        ("POST", "list"),
        ("GET", "one"),
        ("PATCH", "one"),
        ("PUT", "one"),
        ("DELETE", "one"),
    ],
)
async def test_non_admins_get_403_on_every_gateway_route(api, who, method, target):
    gateway = await make_gateway(api)
    path = GATEWAYS if target == "list" else url(gateway["id"])

    reply = await api.call(method, path, as_=who, json=SEED_GATEWAY)

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_a_refused_create_stores_nothing(api):
    await api.post(GATEWAYS, SEED_GATEWAY, as_="student")

    reply = await api.get(GATEWAYS, as_="admin")

    assert reply.body["count"] == 0


async def test_without_a_token_gateways_are_401(api):
    reply = await api.get(GATEWAYS)

    assert reply.status == 401


# Reading, changing, deleting


async def test_admin_lists_gateways_in_creation_order(api):
    first = await make_gateway(api, name="Dummy", is_default=False)
    second = await make_stripe_gateway(api, is_default=False)

    reply = await api.get(GATEWAYS, as_="admin")

    assert (reply.status, reply.body) == (
        200,
        {"count": 2, "next": None, "previous": None, "results": [first, second]},
    )


async def test_gateways_filter_by_provider(api):
    await make_gateway(api, name="Dummy", is_default=False)
    stripe = await make_stripe_gateway(api, is_default=False)

    reply = await api.get(f"{GATEWAYS}?provider=stripe", as_="admin")

    assert [g["id"] for g in reply.body["results"]] == [stripe["id"]]


async def test_admin_retrieves_a_gateway(api):
    created = await make_stripe_gateway(api)

    reply = await api.get(url(created["id"]), as_="admin")

    assert (reply.status, reply.body) == (200, created)


async def test_an_unknown_gateway_is_404(api):
    reply = await api.get(url(999), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_patch_changes_only_what_is_sent(api):
    created = await make_gateway(api, **SEED_GATEWAY)

    reply = await api.patch(url(created["id"]), {"is_active": False}, as_="admin")

    assert (reply.status, reply.body) == (
        200,
        {**created, "is_active": False, "updated_at": TIMESTAMP},
    )


async def test_put_needs_every_required_field(api):
    created = await make_gateway(api)

    reply = await api.put(url(created["id"]), {"description": "x"}, as_="admin")

    assert (reply.status, reply.body) == (400, {"name": ["This field is required."], "status": 400})


async def test_put_replaces_the_fields(api):
    created = await make_gateway(api)

    reply = await api.put(url(created["id"]), {**SEED_GATEWAY, "provider": "stripe"}, as_="admin")

    assert (reply.status, reply.body) == (200, gateway_body(id=created["id"]))


async def test_admin_deletes_a_gateway(api):
    created = await make_gateway(api)

    reply = await api.delete(url(created["id"]), as_="admin")

    assert reply.status == 204
    assert (await api.get(url(created["id"]), as_="admin")).status == 404


# Credentials


async def test_credentials_are_write_only_and_shown_as_has_flags(api):
    reply = await api.post(
        GATEWAYS,
        {
            **SEED_GATEWAY,
            "secret_key": SECRET_KEY,
            "publishable_key": PUBLISHABLE_KEY,
            "webhook_secret": WEBHOOK_SECRET,
        },
        as_="admin",
    )

    assert (reply.status, reply.body) == (
        201,
        gateway_body(has_secret_key=True, has_publishable_key=True, has_webhook_secret=True),
    )


async def test_credentials_are_stored_encrypted(api):
    await make_stripe_gateway(api)

    [row] = await table_rows(api, PaymentGateway)

    sealed = [row.secret_key_sealed, row.publishable_key_sealed, row.webhook_secret_sealed]
    plain = [SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET]
    assert [p in (s or "") for s, p in zip(sealed, plain, strict=True)] == [False] * 3
    assert [unseal(api.client.app[SETTINGS], s or "") for s in sealed] == plain


async def test_a_credential_sent_as_null_is_cleared(api):
    created = await make_stripe_gateway(api)

    reply = await api.patch(url(created["id"]), {"webhook_secret": None}, as_="admin")

    assert (reply.status, reply.body["has_webhook_secret"], reply.body["has_secret_key"]) == (
        200,
        False,
        True,
    )


async def test_a_credential_left_out_of_a_patch_is_kept(api):
    created = await make_stripe_gateway(api)

    reply = await api.patch(url(created["id"]), {"description": "EU account"}, as_="admin")

    assert reply.body == {**created, "description": "EU account", "updated_at": TIMESTAMP}


async def test_a_stripe_key_in_the_wrong_field_is_400_without_echoing_it(api):
    body = {**SEED_GATEWAY, "publishable_key": SECRET_KEY}

    reply = await api.post(GATEWAYS, body, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"publishable_key": ["A Stripe publishable key starts with pk_."], "status": 400},
    )


async def test_secrets_appear_in_no_response_and_no_log_line(api, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = (SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET)
    credentials = dict(
        zip(("secret_key", "publishable_key", "webhook_secret"), secrets, strict=True)
    )
    replies = [await api.post(GATEWAYS, {**SEED_GATEWAY, **credentials}, as_="admin")]
    gateway_id = replies[0].body["id"]
    replies += [
        await api.get(GATEWAYS, as_="admin"),
        await api.get(url(gateway_id), as_="admin"),
        await api.patch(url(gateway_id), credentials, as_="admin"),
        await api.put(url(gateway_id), {**SEED_GATEWAY, **credentials}, as_="admin"),
        await api.post(GATEWAYS, {**SEED_GATEWAY, "publishable_key": SECRET_KEY}, as_="admin"),
        await api.post(GATEWAYS, {**credentials}, as_="admin"),
        await api.post(GATEWAYS, {**SEED_GATEWAY, **credentials}, as_="student"),
    ]

    await settle(api)

    bodies = "".join(str(reply.body) + str(dict(reply.headers)) for reply in replies)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    audited = "".join(str(vars(row)) for row in await table_rows(api, AuditLog))
    assert [s for s in secrets if s in bodies or s in logged or s in audited] == []


# One default per tenant


async def test_creating_a_default_unsets_the_previous_one(api):
    old = await make_gateway(api, name="Dummy", is_default=True)
    new = await make_stripe_gateway(api, is_default=True)

    assert await defaults(api) == [new["id"]]
    assert (await api.get(url(old["id"]), as_="admin")).body["is_default"] is False


async def test_making_a_gateway_default_unsets_the_previous_one(api):
    old = await make_gateway(api, name="Dummy", is_default=True)
    other = await make_stripe_gateway(api, is_default=False)

    reply = await api.patch(url(other["id"]), {"is_default": True}, as_="admin")

    assert reply.body["is_default"] is True
    assert await defaults(api) == [other["id"]]
    assert old["id"] not in await defaults(api)


async def test_many_default_changes_leave_exactly_one_default(api):
    ids = [(await make_gateway(api, name=f"Dummy {n}", is_default=True))["id"] for n in range(3)]
    for gateway_id in (ids[0], ids[2], ids[1]):
        await api.patch(url(gateway_id), {"is_default": True}, as_="admin")

    assert await defaults(api) == [ids[1]]


async def test_unsetting_the_default_leaves_none(api):
    created = await make_gateway(api, is_default=True)

    await api.patch(url(created["id"]), {"is_default": False}, as_="admin")

    assert await defaults(api) == []


# Tenancy


async def test_another_tenant_sees_none_of_this_tenants_gateways(api):
    created = await make_stripe_gateway(api)

    listing = await api.get(GATEWAYS, as_="b_admin")
    one = await api.get(url(created["id"]), as_="b_admin")

    assert (listing.body["count"], one.status) == (0, 404)


async def test_a_default_in_another_tenant_is_left_alone(api):
    a = await make_gateway(api, is_default=True)
    await make_gateway(api, as_="b_admin", is_default=True)

    assert (await api.get(url(a["id"]), as_="admin")).body["is_default"] is True


async def test_a_provider_patched_to_null_is_taken_from_the_name_as_on_create(api):
    created = await make_gateway(
        api, **{**SEED_GATEWAY, "name": "Card payments", "provider": "stripe"}
    )

    reply = await api.patch(
        url(created["id"]), {"name": "Dummy checkout", "provider": None}, as_="admin"
    )

    assert (reply.status, reply.body["provider"]) == (200, "dummy")


async def test_a_provider_patched_to_null_on_a_name_naming_none_is_400(api):
    created = await make_gateway(
        api, **{**SEED_GATEWAY, "name": "Card payments", "provider": "dummy"}
    )

    reply = await api.patch(url(created["id"]), {"provider": None}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {
            "provider": ["Choose a provider: stripe or dummy (or name the gateway after one)."],
            "status": 400,
        },
    )
