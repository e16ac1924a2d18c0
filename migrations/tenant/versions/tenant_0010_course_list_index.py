"""course list index: the catalogue's default order (newest first, id as tie-break)

Revision ID: tenant_0010
Revises: tenant_0009
Create Date: 2026-11-27 21:30:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'tenant_0010'
down_revision: str | None = 'tenant_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index('ix_courses_created_id', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index('ix_courses_created_id')
