"""quizzes: quizzes on quiz lessons, their questions, attempts and saved answers

Revision ID: tenant_0024
Revises: tenant_0023
Create Date: 2026-12-06 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tenant_0024'
down_revision: str | None = 'tenant_0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'quizzes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('is_published', sa.Boolean(), nullable=False),
        sa.Column('time_limit_minutes', sa.Integer(), nullable=True),
        sa.Column('attempts_allowed', sa.Integer(), nullable=True),
        sa.Column('passing_score', sa.Float(), nullable=False),
        sa.Column('grading_method', sa.String(length=10), nullable=False),
        sa.Column('shuffle_questions', sa.Boolean(), nullable=False),
        sa.Column('shuffle_options', sa.Boolean(), nullable=False),
        sa.Column('available_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('available_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reveal_answers', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'],
            name=op.f('fk_quizzes_course_id_courses'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['lesson_id'], ['lessons.id'],
            name=op.f('fk_quizzes_lesson_id_lessons'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_quizzes_course_id', 'quizzes', ['course_id'])
    op.create_index('ix_quizzes_lesson_id', 'quizzes', ['lesson_id'])
    op.create_table(
        'quiz_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quiz_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('prompt', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('true_false_answer', sa.Boolean(), nullable=True),
        sa.Column('accepted_answers', sa.JSON(), nullable=False),
        sa.Column('numeric_answer', sa.Float(), nullable=True),
        sa.Column('tolerance', sa.Float(), nullable=False),
        sa.Column('feedback', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['quiz_id'], ['quizzes.id'],
            name=op.f('fk_quiz_questions_quiz_id_quizzes'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_questions')),
        sqlite_autoincrement=True,
    )
    op.create_index(
        'ix_quiz_questions_quiz_position', 'quiz_questions', ['quiz_id', 'position']
    )
    op.create_table(
        'quiz_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quiz_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('auto_submitted', sa.Boolean(), nullable=False),
        sa.Column('question_ids', sa.JSON(), nullable=False),
        sa.Column('option_order', sa.JSON(), nullable=False),
        sa.Column('results', sa.JSON(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('max_score', sa.Float(), nullable=True),
        sa.Column('graded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['quiz_id'], ['quizzes.id'],
            name=op.f('fk_quiz_attempts_quiz_id_quizzes'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts')),
        sa.UniqueConstraint(
            'quiz_id', 'user_id', 'number', name=op.f('uq_quiz_attempts_quiz_id_user_id_number')
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        'uq_quiz_attempts_in_progress',
        'quiz_attempts',
        ['quiz_id', 'user_id'],
        unique=True,
        sqlite_where=sa.text("status = 'in_progress'"),
        postgresql_where=sa.text("status = 'in_progress'"),
    )
    op.create_index(
        'ix_quiz_attempts_status_deadline', 'quiz_attempts', ['status', 'deadline']
    )
    op.create_table(
        'quiz_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['attempt_id'], ['quiz_attempts.id'],
            name=op.f('fk_quiz_answers_attempt_id_quiz_attempts'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_answers')),
        sa.UniqueConstraint(
            'attempt_id', 'question_id', name=op.f('uq_quiz_answers_attempt_id_question_id')
        ),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('quiz_answers')
    op.drop_index('ix_quiz_attempts_status_deadline', table_name='quiz_attempts')
    op.drop_index('uq_quiz_attempts_in_progress', table_name='quiz_attempts')
    op.drop_table('quiz_attempts')
    op.drop_index('ix_quiz_questions_quiz_position', table_name='quiz_questions')
    op.drop_table('quiz_questions')
    op.drop_index('ix_quizzes_lesson_id', table_name='quizzes')
    op.drop_index('ix_quizzes_course_id', table_name='quizzes')
    op.drop_table('quizzes')
