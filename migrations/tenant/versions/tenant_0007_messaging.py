"""messaging

Revision ID: tenant_0007
Revises: tenant_0006
Create Date: 2026-11-27 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0007'
down_revision: str | None = 'tenant_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_id', sa.String(length=128), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('message_type', sa.String(length=10), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "(message_type = 'direct' AND recipient_id IS NOT NULL AND group_id IS NULL)"
        " OR (message_type = 'group' AND group_id IS NOT NULL AND recipient_id IS NULL)",
        name=op.f('ck_messages_addressee'),
    ),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_messages_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_messages_recipient_id', ['recipient_id'], unique=False)
        batch_op.create_index('ix_messages_group_id', ['group_id'], unique=False)

    op.create_table('message_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_reads_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_reads')),
    sa.UniqueConstraint('message_id', 'user_id', name=op.f('uq_message_reads_message_id_user_id'))
    )


def downgrade() -> None:
    op.drop_table('message_reads')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_group_id')
        batch_op.drop_index('ix_messages_recipient_id')
        batch_op.drop_index('ix_messages_sender_id')

    op.drop_table('messages')
