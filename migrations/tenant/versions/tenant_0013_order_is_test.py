"""orders.is_test: an order paid in test mode says so; a Dummy gateway is test mode only

Existing Dummy gateways are put in test mode (a live one would give courses away), and every
order takes its gateway's mode; an order whose gateway was deleted is a test order when it
was paid through Dummy.

Revision ID: tenant_0013
Revises: tenant_0012
Create Date: 2026-12-06 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0013'
down_revision: str | None = 'tenant_0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite may rebuild the table for this column: keep its ids never reused.
    with op.batch_alter_table(
        'orders', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column('is_test', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    gateways = sa.table(
        'payment_gateways',
        sa.column('id', sa.Integer()),
        sa.column('provider', sa.String()),
        sa.column('is_test_mode', sa.Boolean()),
    )
    orders = sa.table(
        'orders',
        sa.column('gateway_id', sa.Integer()),
        sa.column('provider', sa.String()),
        sa.column('is_test', sa.Boolean()),
    )
    op.execute(
        gateways.update()
        .where(gateways.c.provider == 'dummy')
        .values(is_test_mode=sa.true())
    )
    test_gateways = sa.select(gateways.c.id).where(gateways.c.is_test_mode.is_(sa.true()))
    op.execute(
        orders.update()
        .where(
            sa.or_(
                orders.c.gateway_id.in_(test_gateways),
                sa.and_(orders.c.gateway_id.is_(None), orders.c.provider == 'dummy'),
            )
        )
        .values(is_test=sa.true())
    )


def downgrade() -> None:
    # Dropping a column rebuilds the table on SQLite: keep its ids never reused.
    with op.batch_alter_table(
        'orders', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_column('is_test')
