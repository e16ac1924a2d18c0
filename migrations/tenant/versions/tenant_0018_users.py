"""users: the tenant's directory of people, filled from their tokens' claims

Revision ID: tenant_0018
Revises: tenant_0017
Create Date: 2026-12-06 09:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0018'
down_revision: str | None = 'tenant_0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('picture', sa.String(length=2048), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_users')),
    )


def downgrade() -> None:
    op.drop_table('users')
