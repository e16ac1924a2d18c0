"""grades: grade items and grades, course grading settings, certificates

Revision ID: tenant_0023
Revises: tenant_0022
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0023'
down_revision: str | None = 'tenant_0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'grade_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('max_points', sa.Float(), nullable=False),
        sa.Column('pass_points', sa.Float(), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'],
            name=op.f('fk_grade_items_course_id_courses'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_items')),
        sa.UniqueConstraint('kind', 'source_id', name=op.f('uq_grade_items_kind_source_id')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_grade_items_course_id', 'grade_items', ['course_id'])
    op.create_table(
        'grades',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('override_score', sa.Float(), nullable=True),
        sa.Column('override_reason', sa.Text(), nullable=False),
        sa.Column('released', sa.Boolean(), nullable=False),
        sa.Column('graded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['item_id'], ['grade_items.id'],
            name=op.f('fk_grades_item_id_grade_items'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grades')),
        sa.UniqueConstraint('item_id', 'user_id', name=op.f('uq_grades_item_id_user_id')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_grades_user_id', 'grades', ['user_id'])
    op.create_table(
        'course_grading',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('weights', sa.JSON(), nullable=False),
        sa.Column('letter_scheme', sa.JSON(), nullable=True),
        sa.Column('completion', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'],
            name=op.f('fk_course_grading_course_id_courses'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('course_id', name=op.f('pk_course_grading')),
    )
    op.create_table(
        'certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('holder_name', sa.String(length=200), nullable=False),
        sa.Column('course_title', sa.String(length=200), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoke_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'],
            name=op.f('fk_certificates_course_id_courses'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
        sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
        sa.UniqueConstraint(
            'user_id', 'course_id', name=op.f('uq_certificates_user_id_course_id')
        ),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_certificates_course_id', 'certificates', ['course_id'])


def downgrade() -> None:
    op.drop_index('ix_certificates_course_id', table_name='certificates')
    op.drop_table('certificates')
    op.drop_table('course_grading')
    op.drop_index('ix_grades_user_id', table_name='grades')
    op.drop_table('grades')
    op.drop_index('ix_grade_items_course_id', table_name='grade_items')
    op.drop_table('grade_items')
