"""assignments: assignments, submissions, their versions and files

Revision ID: tenant_0025
Revises: tenant_0023
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0025'
down_revision: str | None = 'tenant_0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('instructions', sa.Text(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('late_policy', sa.String(length=16), nullable=False),
        sa.Column('late_percent_per_day', sa.Float(), nullable=False),
        sa.Column('allowed_file_types', sa.JSON(), nullable=False),
        sa.Column('max_file_bytes', sa.BigInteger(), nullable=False),
        sa.Column('rubric', sa.JSON(), nullable=False),
        sa.Column('is_published', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'],
            name=op.f('fk_assignments_course_id_courses'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['lesson_id'], ['lessons.id'],
            name=op.f('fk_assignments_lesson_id_lessons'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_assignments_course_id', 'assignments', ['course_id'])
    op.create_index('ix_assignments_lesson_id', 'assignments', ['lesson_id'])
    op.create_table(
        'submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('graded_version', sa.Integer(), nullable=True),
        sa.Column('score_given', sa.Float(), nullable=True),
        sa.Column('late_penalty', sa.Float(), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('rubric_scores', sa.JSON(), nullable=True),
        sa.Column('feedback', sa.Text(), nullable=False),
        sa.Column('graded_by', sa.String(length=128), nullable=True),
        sa.Column('graded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('grade_history', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['assignment_id'], ['assignments.id'],
            name=op.f('fk_submissions_assignment_id_assignments'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
        sa.UniqueConstraint(
            'assignment_id', 'user_id', name=op.f('uq_submissions_assignment_id_user_id')
        ),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_submissions_user_id', 'submissions', ['user_id'])
    op.create_index(
        'ix_submissions_assignment_status', 'submissions', ['assignment_id', 'status']
    )
    op.create_table(
        'submission_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('days_late', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['submission_id'], ['submissions.id'],
            name=op.f('fk_submission_versions_submission_id_submissions'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_versions')),
        sa.UniqueConstraint(
            'submission_id', 'number', name=op.f('uq_submission_versions_submission_id_number')
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'submission_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ['version_id'], ['submission_versions.id'],
            name=op.f('fk_submission_files_version_id_submission_versions'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_files')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_submission_files_version_id', 'submission_files', ['version_id'])


def downgrade() -> None:
    op.drop_index('ix_submission_files_version_id', table_name='submission_files')
    op.drop_table('submission_files')
    op.drop_table('submission_versions')
    op.drop_index('ix_submissions_assignment_status', table_name='submissions')
    op.drop_index('ix_submissions_user_id', table_name='submissions')
    op.drop_table('submissions')
    op.drop_index('ix_assignments_lesson_id', table_name='assignments')
    op.drop_index('ix_assignments_course_id', table_name='assignments')
    op.drop_table('assignments')
