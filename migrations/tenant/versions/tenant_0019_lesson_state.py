"""lesson state: where each enrollment resumes (the lesson its learner last opened)

Revision ID: tenant_0019
Revises: tenant_0018
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tenant_0019"
down_revision: str | None = "tenant_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "enrollments", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("last_lesson_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_enrollments_last_lesson_id_lessons"),
            "lessons",
            ["last_lesson_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "enrollments", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_enrollments_last_lesson_id_lessons"), type_="foreignkey"
        )
        batch_op.drop_column("last_lesson_id")
