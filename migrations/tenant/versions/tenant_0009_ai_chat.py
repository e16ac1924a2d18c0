"""ai chat

Revision ID: tenant_0009
Revises: tenant_0008
Create Date: 2026-11-27 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0009'
down_revision: str | None = 'tenant_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ai_chat_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('difficulty_level', sa.String(length=20), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('lesson_id', sa.Integer(), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_ai_chat_sessions_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_ai_chat_sessions_lesson_id_lessons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_chat_sessions'))
    )
    with op.batch_alter_table('ai_chat_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_ai_chat_sessions_user_id', ['user_id'], unique=False)

    op.create_table('ai_chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('sender_type', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=True),
    sa.Column('completion_tokens', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(
        "sender_type IN ('user', 'assistant', 'system')",
        name=op.f('ck_ai_chat_messages_sender_type'),
    ),
    sa.CheckConstraint(
        "status IN ('pending', 'streaming', 'complete', 'failed')",
        name=op.f('ck_ai_chat_messages_status'),
    ),
    sa.ForeignKeyConstraint(['reply_to_id'], ['ai_chat_messages.id'], name=op.f('fk_ai_chat_messages_reply_to_id_ai_chat_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['ai_chat_sessions.id'], name=op.f('fk_ai_chat_messages_session_id_ai_chat_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_chat_messages'))
    )
    with op.batch_alter_table('ai_chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_ai_chat_messages_session_id_id', ['session_id', 'id'], unique=False)
        batch_op.create_index('ix_ai_chat_messages_reply_to_id', ['reply_to_id'], unique=False)

    op.create_table('ai_chat_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_chat_usage')),
    sa.UniqueConstraint('message_id', name=op.f('uq_ai_chat_usage_message_id'))
    )
    with op.batch_alter_table('ai_chat_usage', schema=None) as batch_op:
        batch_op.create_index('ix_ai_chat_usage_user_id_created_at', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ai_chat_usage_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ai_chat_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_chat_usage_created_at')
        batch_op.drop_index('ix_ai_chat_usage_user_id_created_at')

    op.drop_table('ai_chat_usage')
    with op.batch_alter_table('ai_chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_chat_messages_reply_to_id')
        batch_op.drop_index('ix_ai_chat_messages_session_id_id')

    op.drop_table('ai_chat_messages')
    with op.batch_alter_table('ai_chat_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_chat_sessions_user_id')

    op.drop_table('ai_chat_sessions')
