"""schedules

Revision ID: tenant_0005
Revises: tenant_0004
Create Date: 2026-11-27 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0005'
down_revision: str | None = 'tenant_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('is_all_day', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('recurrence', sa.String(length=500), nullable=True),
    sa.Column('series_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index('ix_schedules_created_by', ['created_by'], unique=False)
        batch_op.create_index('ix_schedules_start_time', ['start_time'], unique=False)

    op.create_table('schedule_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('via_group_id', sa.Integer(), nullable=True),
    sa.Column('is_optional', sa.Boolean(), nullable=False),
    sa.Column('response_status', sa.String(length=20), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (group_id IS NULL)', name=op.f('ck_schedule_participants_user_or_group')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_participants_schedule_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_schedule_participants_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['via_group_id'], ['groups.id'], name=op.f('fk_schedule_participants_via_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_participants')),
    sa.UniqueConstraint('schedule_id', 'user_id', name=op.f('uq_schedule_participants_schedule_id_user_id')),
    sa.UniqueConstraint('schedule_id', 'group_id', name=op.f('uq_schedule_participants_schedule_id_group_id'))
    )
    with op.batch_alter_table('schedule_participants', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_participants_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_schedule_participants_group_id', ['group_id'], unique=False)
        batch_op.create_index('ix_schedule_participants_via_group_id', ['via_group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('schedule_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_participants_via_group_id')
        batch_op.drop_index('ix_schedule_participants_group_id')
        batch_op.drop_index('ix_schedule_participants_user_id')

    op.drop_table('schedule_participants')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index('ix_schedules_start_time')
        batch_op.drop_index('ix_schedules_created_by')

    op.drop_table('schedules')
