"""The revision adding `orders.is_test`: existing orders take their gateway's mode, and a Dummy
gateway left in live mode is put in test mode (a live one would give courses away)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from migrations.runner import alembic_config, drop_tenant_storage
from models.base import utcnow
from models.tenancy import Databases, make_engine

GATEWAYS = sa.table(
    "payment_gateways",
    *(sa.column(name, sa.String()) for name in ("name", "description", "provider")),
    *(sa.column(name, sa.Boolean()) for name in ("is_active", "is_test_mode", "is_default")),
    sa.column("id", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
ORDERS = sa.table(
    "orders",
    *(sa.column(name, sa.String()) for name in ("reference", "user_id", "status", "provider")),
    *(sa.column(name, sa.String()) for name in ("currency", "request_hash", "failure_reason")),
    sa.column("id", sa.Integer()),
    sa.column("gateway_id", sa.Integer()),
    sa.column("amount_cents", sa.BigInteger()),
    sa.column("billing_address", sa.JSON()),
    sa.column("is_test", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _revision_before_this_one() -> str:
    script = ScriptDirectory.from_config(alembic_config("tenant"))
    mine = next(r for r in script.walk_revisions() if "orders.is_test" in (r.doc or ""))
    assert isinstance(mine.down_revision, str)
    return mine.down_revision


def _upgrade(connection: Connection, target: str, schema: str | None) -> None:
    command.upgrade(alembic_config("tenant", connection=connection, tenant_schema=schema), target)
    if schema is not None:
        connection.exec_driver_sql(f'SET search_path TO "{schema}"')


def _seed(connection: Connection) -> None:
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    flags = {"description": "", "is_active": True, "is_default": False, **stamps}
    connection.execute(
        GATEWAYS.insert(),
        [
            {"id": 1, "name": "Dummy", "provider": "dummy", "is_test_mode": False, **flags},
            {"id": 2, "name": "Stripe", "provider": "stripe", "is_test_mode": True, **flags},
            {"id": 3, "name": "Live", "provider": "stripe", "is_test_mode": False, **flags},
        ],
    )
    rows = [(1, 1, "dummy"), (2, 2, "stripe"), (3, 3, "stripe"), (4, None, "dummy")]
    rows += [(5, None, "stripe"), (6, None, "free")]
    connection.execute(
        ORDERS.insert(),
        [
            {
                "id": order_id,
                "gateway_id": gateway_id,
                "provider": provider,
                "reference": uuid.uuid4().hex,
                "user_id": "student-1",
                "status": "paid",
                "currency": "USD",
                "amount_cents": 100,
                "billing_address": {},
                "request_hash": "",
                "failure_reason": "",
                **stamps,
            }
            for order_id, gateway_id, provider in rows
        ],
    )


def _read(connection: Connection) -> dict[str, Any]:
    orders = connection.execute(sa.select(ORDERS.c.id, ORDERS.c.is_test).order_by(ORDERS.c.id))
    gateways = connection.execute(
        sa.select(GATEWAYS.c.id, GATEWAYS.c.is_test_mode).order_by(GATEWAYS.c.id)
    )
    return {"orders": [tuple(r) for r in orders], "gateways": [tuple(r) for r in gateways]}


async def test_existing_orders_take_their_gateways_mode_and_dummies_become_test_mode(
    database_url, backend
):
    databases = Databases.connect(database_url)
    slug = f"mig_{uuid.uuid4().hex[:10]}"
    schema = None if databases.is_sqlite else slug
    engine = make_engine(databases.tenant_url(slug), pooled=False)
    try:
        async with engine.begin() as connection:
            if schema is not None:
                await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            await connection.run_sync(_upgrade, _revision_before_this_one(), schema)
            await connection.run_sync(_seed)
            await connection.run_sync(_upgrade, "head", schema)
            found = await connection.run_sync(_read)
    finally:
        await engine.dispose()
        await drop_tenant_storage(databases, slug)
        await databases.dispose()

    assert found == {
        "orders": [(1, True), (2, True), (3, False), (4, True), (5, False), (6, False)],
        "gateways": [(1, True), (2, True), (3, False)],
    }
