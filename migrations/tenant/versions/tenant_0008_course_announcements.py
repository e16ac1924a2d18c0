"""course announcements

Revision ID: tenant_0008
Revises: tenant_0007
Create Date: 2026-11-27 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0008'
down_revision: str | None = 'tenant_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('course_announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_announcements_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_announcements'))
    )
    op.create_index('ix_course_announcements_course_created', 'course_announcements', ['course_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_course_announcements_course_created', table_name='course_announcements')
    op.drop_table('course_announcements')
