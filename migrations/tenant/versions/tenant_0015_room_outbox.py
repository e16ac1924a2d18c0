"""room outbox: committed room events kept while Redis cannot take them

Revision ID: tenant_0015
Revises: tenant_0014
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0015'
down_revision: str | None = 'tenant_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'room_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room', sa.String(length=200), nullable=False),
        sa.Column('event', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_outbox')),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('room_outbox')
