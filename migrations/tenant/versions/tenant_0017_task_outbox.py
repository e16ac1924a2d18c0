"""task outbox: tasks of committed changes kept while the broker cannot take them

Revision ID: tenant_0017
Revises: tenant_0016
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0017'
down_revision: str | None = 'tenant_0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'task_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task', sa.String(length=100), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_outbox')),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('task_outbox')
