"""forums

Revision ID: tenant_0006
Revises: tenant_0005
Create Date: 2026-11-27 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0006'
down_revision: str | None = 'tenant_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('forums',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=220), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_locked', sa.Boolean(), nullable=False),
    sa.Column('is_restricted', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forums')),
    sa.UniqueConstraint('slug', name=op.f('uq_forums_slug'))
    )
    op.create_table('forum_groups',
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_forum_groups_forum_id_forums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_forum_groups_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('forum_id', 'group_id', name=op.f('pk_forum_groups'))
    )
    with op.batch_alter_table('forum_groups', schema=None) as batch_op:
        batch_op.create_index('ix_forum_groups_group_id', ['group_id'], unique=False)

    op.create_table('forum_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('author_id', sa.String(length=128), nullable=False),
    sa.Column('is_pinned', sa.Boolean(), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_forum_posts_forum_id_forums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['forum_posts.id'], name=op.f('fk_forum_posts_parent_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_posts'))
    )
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.create_index('ix_forum_posts_author_id', ['author_id'], unique=False)
        batch_op.create_index('ix_forum_posts_forum_pinned_created', ['forum_id', 'is_pinned', 'created_at'], unique=False)
        batch_op.create_index('ix_forum_posts_parent_id', ['parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_forum_posts_parent_id')
        batch_op.drop_index('ix_forum_posts_forum_pinned_created')
        batch_op.drop_index('ix_forum_posts_author_id')

    op.drop_table('forum_posts')
    with op.batch_alter_table('forum_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_forum_groups_group_id')

    op.drop_table('forum_groups')
    op.drop_table('forums')
