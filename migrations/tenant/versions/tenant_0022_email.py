"""email: notification digests and their delivery state

Revision ID: tenant_0022
Revises: tenant_0021
Create Date: 2026-12-06 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0022'
down_revision: str | None = 'tenant_0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'email_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_digests')),
        sqlite_autoincrement=True,
    )
    op.create_index(
        'ix_email_digests_status_next_attempt_at',
        'email_digests',
        ['status', 'next_attempt_at'],
    )
    op.add_column('notifications', sa.Column('digest_id', sa.Integer(), nullable=True))
    op.create_index(
        'ix_notifications_channel_digest_id', 'notifications', ['channel', 'digest_id']
    )


def downgrade() -> None:
    op.drop_index('ix_notifications_channel_digest_id', table_name='notifications')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('digest_id')
    op.drop_index('ix_email_digests_status_next_attempt_at', table_name='email_digests')
    op.drop_table('email_digests')
